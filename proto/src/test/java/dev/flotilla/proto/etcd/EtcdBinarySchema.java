package dev.flotilla.proto.etcd;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * etcd's own schema, read out of a real etcd binary (Debian's etcd-server, 3.4). Go protobuf
 * code registers each .proto file as a gzipped {@code FileDescriptorProto} kept in the binary's
 * read-only data; we find the gzip members, inflate them and keep the descriptors of the wanted
 * packages. This is the schema the server that etcdctl talks to was built from, with no copy in
 * between.
 */
final class EtcdBinarySchema {
  private static final int MAX_DESCRIPTOR_BYTES = 1 << 20;

  private EtcdBinarySchema() {}

  /**
   * The etcd binary on PATH. Skips the test when there is none, unless FLOTILLA_REQUIRE_TOOLS=1
   * (CI), where a missing oracle fails instead.
   */
  static Path requireEtcd() {
    Path etcd = findOnPath("etcd");
    String missing = "etcd-server is missing: no `etcd` on PATH; install Debian's etcd-server (etcd 3.4), "
        + "whose binary holds etcd's own descriptors";
    if (etcd == null && "1".equals(System.getenv("FLOTILLA_REQUIRE_TOOLS"))) {
      Assertions.fail(missing + " (FLOTILLA_REQUIRE_TOOLS=1, so this fails instead of skipping)");
    }
    Assumptions.assumeTrue(etcd != null, missing);
    return etcd;
  }

  private static Path findOnPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /** What {@code etcd --version} prints as "etcd Version: X". */
  static String version(Path etcd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(etcd.toString(), "--version").redirectErrorStream(true).start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new IOException(etcd + " --version did not exit within 30 s");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return out.lines()
          .filter(l -> l.startsWith("etcd Version:"))
          .map(l -> l.substring("etcd Version:".length()).trim())
          .findFirst()
          .orElseThrow(() -> new IOException(etcd + " --version printed no 'etcd Version:' line: " + out));
    } finally {
      p.destroyForcibly();
    }
  }

  /**
   * The file descriptors found in {@code binary} whose package is in {@code packages} and whose
   * file name (last path segment) is in {@code fileNames}. The name filter matters: etcd's
   * etcdserverpb package also holds its internal raft requests (etcdserver.proto,
   * raft_internal.proto), which are not part of the client API.
   */
  static List<FileDescriptorProto> descriptors(Path binary, Set<String> packages, Set<String> fileNames)
      throws IOException {
    byte[] data = Files.readAllBytes(binary);
    List<FileDescriptorProto> found = new ArrayList<>();
    // A gzip member without optional header fields: 1f 8b, method 8 (deflate), flags 0, then
    // mtime (4), xfl, os; the deflate stream starts 10 bytes in. Go's gzip writer emits exactly this.
    for (int i = 0; i + 10 < data.length; i++) {
      if (data[i] != 0x1f || data[i + 1] != (byte) 0x8b || data[i + 2] != 8 || data[i + 3] != 0) {
        continue;
      }
      byte[] inflated = inflate(data, i + 10);
      if (inflated == null) {
        continue;
      }
      try {
        FileDescriptorProto file = FileDescriptorProto.parseFrom(inflated);
        String baseName = file.getName().substring(file.getName().lastIndexOf('/') + 1);
        if (packages.contains(file.getPackage()) && fileNames.contains(baseName)) {
          found.add(file);
        }
      } catch (InvalidProtocolBufferException notADescriptor) {
        // some other gzip member
      }
    }
    return found;
  }

  /** The raw deflate stream at {@code offset}, or null if it is not one (or is too large). */
  private static byte[] inflate(byte[] data, int offset) {
    Inflater inflater = new Inflater(true);
    try {
      inflater.setInput(data, offset, data.length - offset);
      var out = new ByteArrayOutputStream();
      byte[] buf = new byte[16 * 1024];
      while (!inflater.finished()) {
        int n = inflater.inflate(buf);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          return null;
        }
        out.write(buf, 0, n);
        if (out.size() > MAX_DESCRIPTOR_BYTES) {
          return null;
        }
      }
      return out.toByteArray();
    } catch (DataFormatException notDeflate) {
      return null;
    } finally {
      inflater.end();
    }
  }
}
