package dev.flotilla.scheduler.unit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Test unit files under src/test/resources/units. */
public final class UnitFiles {

  private UnitFiles() {}

  public static String text(String name) {
    try (InputStream in = UnitFiles.class.getResourceAsStream("/units/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test unit " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static UnitFile load(String name) {
    return UnitFile.parse(text(name));
  }
}
