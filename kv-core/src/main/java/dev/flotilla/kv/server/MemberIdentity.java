package dev.flotilla.kv.server;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Member and cluster IDs computed as etcd computes them, so that a member started with the
 * same flags as an etcd member has the same IDs: member ID = first 8 bytes of
 * SHA-1(sorted peer URLs ‖ cluster token); cluster ID = first 8 bytes of SHA-1(sorted member
 * IDs, 8 bytes each).
 */
public record MemberIdentity(String name, long memberId, long clusterId, List<URI> peerUrls) {

  public static long memberId(List<URI> peerUrls, String clusterToken) {
    List<String> urls = new ArrayList<>();
    for (URI u : peerUrls) {
      urls.add(u.toString());
    }
    urls.sort(null);
    StringBuilder b = new StringBuilder();
    urls.forEach(b::append);
    b.append(clusterToken);
    return first8(sha1(b.toString().getBytes(StandardCharsets.UTF_8)));
  }

  public static long clusterId(List<Long> memberIds) {
    List<Long> ids = new ArrayList<>(memberIds);
    ids.sort(Long::compareUnsigned);
    ByteBuffer buf = ByteBuffer.allocate(8 * ids.size());
    ids.forEach(buf::putLong);
    return first8(sha1(buf.array()));
  }

  public static String hex(long id) {
    return Long.toHexString(id);
  }

  private static long first8(byte[] hash) {
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }

  private static byte[] sha1(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }
}
