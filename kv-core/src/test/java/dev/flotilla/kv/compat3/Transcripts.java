package dev.flotilla.kv.compat3;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/** Line-by-line comparison of the transcripts one client session wrote against etcd and against kvd. */
final class Transcripts {
  private Transcripts() {}

  /** A line where the transcripts differ; a missing line reads "(nothing)". */
  record Difference(String etcd, String kvd) {
    @Override
    public String toString() {
      return "etcd: " + etcd + "\n  kvd: " + kvd;
    }
  }

  static List<Difference> differences(List<String> etcd, List<String> kvd) {
    List<Difference> diff = new ArrayList<>();
    for (int i = 0; i < Math.max(etcd.size(), kvd.size()); i++) {
      String e = i < etcd.size() ? etcd.get(i) : "(nothing)";
      String k = i < kvd.size() ? kvd.get(i) : "(nothing)";
      if (!e.equals(k)) {
        diff.add(new Difference(e, k));
      }
    }
    return diff;
  }

  /** Keeps both transcripts as {@code target/compat3-logs/<name>-etcd.txt} and {@code -kvd.txt}. */
  static void save(String name, List<String> etcd, List<String> kvd) throws IOException {
    Files.writeString(EtcdV3Server.logDir().resolve(name + "-etcd.txt"), String.join("\n", etcd) + "\n");
    Files.writeString(EtcdV3Server.logDir().resolve(name + "-kvd.txt"), String.join("\n", kvd) + "\n");
  }
}
