package dev.flotilla.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** fctl's version, from the build ({@code version.properties}, filtered by Maven). */
public final class FctlVersion implements IVersionProvider {

  public static String version() {
    try (InputStream in = FctlVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"fctl version " + version()};
  }
}
