package dev.flotilla.kv.mvcc;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;

/**
 * Loads RocksDB's JNI library from one extracted copy per library build instead of a fresh copy
 * per process. {@link RocksDB#loadLibrary()} writes the 17 MB library to a new temp file each time
 * a JVM starts and deletes it only on a clean exit, so every member killed with -9 (the cluster
 * chaos tests do it hundreds of times) left one behind until the disk was full.
 *
 * <p>The copy lives in {@code <java.io.tmpdir>/flotilla-native-<user>/<crc>-<size>/}, named by
 * the jar entry's CRC and size so that another rocksdbjni build gets its own directory. It is
 * written to a temp name and renamed into place, so a concurrent starter sees either no file or
 * a whole one. Anything unusual (no jar, a directory we cannot write) falls back to RocksDB's own
 * loader.
 */
final class RocksNative {
  private RocksNative() {}

  static void load() {
    try {
      Path library = extracted(Environment.getJniLibraryFileName("rocksdb"));
      if (library != null) {
        System.load(library.toString());
        RocksDB.loadLibrary(List.of(withLookupName(library).toString()));
        return;
      }
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      // fall through to RocksDB's per-process extraction
    }
    RocksDB.loadLibrary();
  }

  /**
   * {@link RocksDB#loadLibrary(List)} is the one way to tell RocksDB its library is loaded, and in
   * 11.x it opens {@code getJniLibraryFileName("rocksdbjni")} ("librocksdbjnijni-linux64.so"), not
   * the jar's name: a symlink with that name makes its {@code System.load} find the library this
   * class already loaded (the JDK keys loaded libraries by canonical path, so it is not loaded
   * twice). Returns the directory to pass.
   */
  private static Path withLookupName(Path library) throws IOException {
    Path dir = library.getParent();
    Path lookup = dir.resolve(Environment.getJniLibraryFileName("rocksdbjni"));
    if (!lookup.equals(library) && !Files.exists(lookup)) {
      try {
        Files.createSymbolicLink(lookup, library.getFileName());
      } catch (FileAlreadyExistsException raced) {
        // another process made the same link
      }
    }
    return dir;
  }

  /** A whole copy of the jar's {@code fileName}, or null when it is not in a jar. */
  private static Path extracted(String fileName) throws IOException {
    URL url = RocksDB.class.getClassLoader().getResource(fileName);
    if (url == null) {
      return null;
    }
    URLConnection connection = url.openConnection();
    if (!(connection instanceof JarURLConnection jar)) {
      return null;
    }
    JarEntry entry = jar.getJarEntry();
    if (entry.getSize() < 0 || entry.getCrc() < 0) {
      return null;
    }
    Path dir = Path.of(System.getProperty("java.io.tmpdir"),
        "flotilla-native-" + System.getProperty("user.name"),
        Long.toHexString(entry.getCrc()) + "-" + entry.getSize());
    Path target = dir.resolve(fileName);
    if (Files.isRegularFile(target) && Files.size(target) == entry.getSize()) {
      return target;
    }
    Files.createDirectories(dir);
    Path part = Files.createTempFile(dir, fileName, ".part");
    try (InputStream in = connection.getInputStream()) {
      Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
    return target;
  }
}
