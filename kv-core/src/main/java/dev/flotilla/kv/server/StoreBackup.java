package dev.flotilla.kv.server;

import dev.flotilla.kv.mvcc.MvccStore;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * A backup of the store, as the Maintenance Snapshot stream sends it and {@code kvd snapshot restore}
 * reads it. etcd sends its bbolt file with a SHA-256 of it appended, and {@code etcdctl snapshot save}
 * accepts a stream only when its length is a multiple of 512 plus those 32 bytes; so the layout is
 * <pre>
 *   "KVDSNAP1"  the store's dump ({@link MvccStore#dump}), deflated  zero padding to a multiple of 512
 *   SHA-256 of everything before it (32 bytes)
 * </pre>
 * It is not a bbolt file: {@code etcdctl snapshot status} and {@code etcdctl snapshot restore}
 * answer "invalid database" for it; {@code kvd snapshot restore} is the way back.
 */
public final class StoreBackup {
  static final byte[] MAGIC = "KVDSNAP1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  static final int ALIGN = 512;
  static final int SHA_BYTES = 32;

  private StoreBackup() {}

  /** Writes a backup of {@code store} (one consistent RocksDB snapshot) to {@code file}. */
  public static void write(MvccStore store, Path file) throws IOException {
    MessageDigest sha = sha256();
    java.util.zip.Deflater deflater = new java.util.zip.Deflater();
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      var counted = new CountingOutputStream(new DigestOutputStream(out, sha));
      counted.write(MAGIC);
      var deflate = new DeflaterOutputStream(counted, deflater, 1 << 16);
      var data = new DataOutputStream(deflate);
      store.dump(data);
      data.flush();
      deflate.finish(); // not close(): padding and the checksum follow
      counted.write(new byte[(int) ((ALIGN - counted.count % ALIGN) % ALIGN)]);
      counted.flush();
      out.write(sha.digest()); // the trailer itself is not hashed
    } finally {
      deflater.end();
    }
  }

  /**
   * Checks a backup file: the length etcdctl expects, the SHA-256 trailer, kvd's magic. Fails with
   * what is wrong (an etcd bbolt snapshot is named as such).
   */
  public static void verify(Path file) throws IOException {
    long size = Files.size(file);
    if (size < MAGIC.length + SHA_BYTES || size % ALIGN != SHA_BYTES) {
      throw new IOException(file + " is not a kvd snapshot: " + size + " bytes is not a multiple of "
          + ALIGN + " plus a " + SHA_BYTES + "-byte SHA-256");
    }
    MessageDigest sha = sha256();
    byte[] head = new byte[MAGIC.length];
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      long left = size - SHA_BYTES;
      boolean first = true;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException(file + " ended early");
        }
        if (first) {
          System.arraycopy(buf, 0, head, 0, Math.min(n, head.length));
          first = false;
        }
        sha.update(buf, 0, n);
        left -= n;
      }
      byte[] want = in.readNBytes(SHA_BYTES);
      if (!Arrays.equals(want, sha.digest())) {
        throw new IOException(file + ": SHA-256 mismatch (the file is damaged or truncated)");
      }
    }
    if (!Arrays.equals(head, MAGIC)) {
      throw new IOException(file + " has a valid SHA-256 trailer but is not a kvd snapshot"
          + (head[0] == 0 && head.length > 0 ? " (an etcd bbolt snapshot? restore those with etcdctl snapshot restore)" : ""));
    }
  }

  /**
   * Creates a new member's store under {@code dataDir} from a verified backup, as etcdctl snapshot
   * restore creates an etcd data dir: keys, history and leases come back; the log position, member
   * list and alarms go, so that kvd started on the dir with its usual flags (a new cluster) begins
   * a new log. Returns the restored revision.
   */
  public static long restore(Path file, Path dataDir) throws IOException {
    verify(file);
    Path memberDir = dataDir.resolve("member");
    if (Files.exists(memberDir)) {
      throw new IOException("data dir " + dataDir + " already has a member/ directory; restore into a new data dir");
    }
    Path tmp = dataDir.resolve("member.restoring");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    long revision;
    try (InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.skipNBytes(MAGIC.length);
      try (MvccStore store = MvccStore.open(tmp.resolve("store"));
           var in = new DataInputStream(new InflaterInputStream(raw))) {
        store.restore(in);
        store.forgetClusterState();
        revision = store.revision();
      }
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
    Files.move(tmp, memberDir, StandardCopyOption.ATOMIC_MOVE);
    return revision;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Counts bytes on their way to {@code out}. */
  private static final class CountingOutputStream extends java.io.FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
