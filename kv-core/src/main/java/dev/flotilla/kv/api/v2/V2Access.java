package dev.flotilla.kv.api.v2;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.auth.AuthStore;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.authpb.User;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The v3 auth rules applied to {@code /v2/keys} (etcd 3.4 itself leaves v2 unchecked): while v3 auth
 * is enabled, a v2 request must carry HTTP Basic credentials of a v3 user ({@code etcdctl
 * --username user:pass}), and that user's roles must grant the v3 permission on the v2 path taken
 * as the key, byte for byte: {@code /app/x} is checked as the v3 key {@code "/app/x"}, so
 * {@code role grant-permission r readwrite /app/ --prefix} covers everything under {@code /app}.
 * <ul>
 *   <li>GET, HEAD and watches read the path; recursive ones, and a listing of a directory, also read
 *       everything below it (the keys from {@code path + "/"} with that prefix);</li>
 *   <li>PUT writes the path; POST (an in-order key under the path), and a DELETE with {@code dir} or
 *       {@code recursive}, also write everything below it.</li>
 * </ul>
 * Refusals are etcd v2's: 401 with error 110 "The request requires user authentication", cause
 * "Insufficient credentials". bcrypt runs on a small pool of its own; a password that checked
 * against a user's current hash is remembered (by its SHA-256) so later requests skip bcrypt.
 */
final class V2Access {
  private static final ExecutorService BCRYPT = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "kvd-v2-bcrypt");
    t.setDaemon(true);
    return t;
  });
  private static final int MAX_REMEMBERED = 1024;

  private final AuthStore auth;
  /** user + "\0" + SHA-256(password) -> the user's stored hash it was checked against. */
  private final Map<String, byte[]> checked = new ConcurrentHashMap<>();

  V2Access(AuthStore auth) {
    this.auth = auth;
  }

  boolean enabled() {
    return auth.enabled();
  }

  static V2Error denied() {
    return new V2Error(V2ErrorCode.UNAUTHORIZED, "Insufficient credentials", 0);
  }

  /**
   * The user named by an {@code Authorization: Basic} header whose password checks; fails with
   * {@link #denied()} otherwise.
   */
  CompletableFuture<String> authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return CompletableFuture.failedFuture(denied());
    }
    String userPass;
    try {
      userPass = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(denied());
    }
    int colon = userPass.indexOf(':');
    if (colon < 0) {
      return CompletableFuture.failedFuture(denied());
    }
    String user = userPass.substring(0, colon);
    String password = userPass.substring(colon + 1);
    byte[] stored = auth.user(user).map(User::getPassword).map(ByteString::toByteArray).orElse(null);
    String memo = user + "\0" + sha256(password);
    if (stored != null && Arrays.equals(checked.get(memo), stored)) {
      return CompletableFuture.completedFuture(user);
    }
    return CompletableFuture.supplyAsync(() -> {
      try {
        auth.checkPassword(user, password);
      } catch (V3Error e) {
        throw new java.util.concurrent.CompletionException(denied());
      }
      if (checked.size() >= MAX_REMEMBERED) {
        checked.clear();
      }
      if (stored != null) {
        checked.put(memo, stored);
      }
      return user;
    }, BCRYPT);
  }

  /** Whether {@code user} may read ({@code write} false) or write {@code path}, and everything below it with {@code subtree}. */
  boolean permits(String user, String path, boolean write, boolean subtree) {
    ByteString key = ByteString.copyFromUtf8(path);
    try {
      if (write) {
        auth.checkPut(user, key);
      } else {
        auth.checkRange(user, key, ByteString.EMPTY);
      }
      if (subtree) {
        ByteString below = ByteString.copyFromUtf8(path.endsWith("/") ? path : path + "/");
        ByteString end = prefixEnd(below);
        if (write) {
          auth.checkDeleteRange(user, below, end);
        } else {
          auth.checkRange(user, below, end);
        }
      }
      return true;
    } catch (V3Error e) {
      return false;
    }
  }

  private static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] != (byte) 0xff) {
        b[i]++;
        return ByteString.copyFrom(b, 0, i + 1);
      }
    }
    return ByteString.copyFrom(new byte[] {0});
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
