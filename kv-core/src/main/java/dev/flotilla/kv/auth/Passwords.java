package dev.flotilla.kv.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * bcrypt, as etcd hashes passwords ("$2a$" hashes at --bcrypt-cost, default 10: some 50-100 ms of
 * CPU each). Callers run it off the gRPC and apply threads.
 */
public final class Passwords {
  /** etcd's --bcrypt-cost default (Go's bcrypt.DefaultCost). */
  public static final int DEFAULT_COST = 10;
  /** bcrypt reads at most 72 bytes of a password; Go's bcrypt refuses longer ones. */
  static final int MAX_BYTES = 72;
  private static final SecureRandom RANDOM = new SecureRandom();

  private Passwords() {}

  public static byte[] hash(String password, int cost) {
    if (cost < 4 || cost > 31) {
      throw new IllegalArgumentException("--bcrypt-cost must be between 4 and 31, got " + cost);
    }
    if (password.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      throw new IllegalArgumentException("bcrypt: password length exceeds 72 bytes");
    }
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return OpenBSDBCrypt.generate("2a", password.toCharArray(), salt, cost).getBytes(StandardCharsets.US_ASCII);
  }

  public static boolean matches(byte[] hash, String password) {
    if (hash.length == 0 || password.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      return false;
    }
    try {
      return OpenBSDBCrypt.checkPassword(new String(hash, StandardCharsets.US_ASCII), password.toCharArray());
    } catch (IllegalArgumentException e) {
      return false; // not a bcrypt hash
    }
  }
}
