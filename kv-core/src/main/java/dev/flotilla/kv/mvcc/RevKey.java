package dev.flotilla.kv.mvcc;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * Keys of the {@code revs} column family: an order-preserving, prefix-free encoding of the
 * store key (0x00 → 0x00 0xFF, then the terminator 0x00 0x00), followed by revision and sub
 * revision, big-endian. All versions of a key sit together, oldest first, and keys keep their
 * byte order.
 */
public final class RevKey {
  private RevKey() {}

  public static byte[] encode(byte[] key, long rev, int sub) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 16);
    writeEscaped(out, key);
    out.write(0);
    out.write(0);
    byte[] tail = ByteBuffer.allocate(12).putLong(rev).putInt(sub).array();
    out.write(tail, 0, tail.length);
    return out.toByteArray();
  }

  /** The first revs key at or after every version of every key >= {@code key}. */
  public static byte[] seekTo(byte[] key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 2);
    writeEscaped(out, key);
    return out.toByteArray();
  }

  private static void writeEscaped(ByteArrayOutputStream out, byte[] key) {
    for (byte b : key) {
      out.write(b);
      if (b == 0) {
        out.write(0xFF);
      }
    }
  }

  public static byte[] userKey(byte[] revKey) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(revKey.length);
    int end = revKey.length - 12;
    for (int i = 0; i < end; i++) {
      byte b = revKey[i];
      if (b == 0) {
        if (revKey[i + 1] == 0) {
          break; // terminator
        }
        out.write(0);
        i++; // skip the 0xFF escape
      } else {
        out.write(b);
      }
    }
    return out.toByteArray();
  }

  public static long revision(byte[] revKey) {
    return ByteBuffer.wrap(revKey, revKey.length - 12, 8).getLong();
  }
}
