package dev.flotilla.scheduler.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * fleet's page token: the two 16-bit numbers {@code limit} and {@code page} (from 1), little
 * endian, in URL-safe base64 with padding ({@code limit=100, page=2} is {@code ZAACAA==}). fleet
 * serves pages of exactly 100 and refuses a token with any other limit; so do we.
 */
record PageToken(int limit, int page) {

  static final int LIMIT = 100;

  static PageToken first() {
    return new PageToken(LIMIT, 1);
  }

  PageToken next() {
    return new PageToken(limit, page + 1);
  }

  String encode() {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) limit).putShort((short) page);
    return Base64.getUrlEncoder().encodeToString(b.array());
  }

  /** Decodes and checks a token from a query; throws {@link ApiException} (400) when it is not one. */
  static PageToken decode(String value) {
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "invalid page token '" + value + "': " + e.getMessage());
    }
    if (raw.length < 4) {
      throw new ApiException(400, "invalid page token '" + value + "': " + raw.length + " bytes, need 4");
    }
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    PageToken t = new PageToken(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()));
    if (t.limit() != LIMIT) {
      throw new ApiException(400, "token limit must be " + LIMIT);
    }
    if (t.page() == 0) {
      throw new ApiException(400, "token page must be greater than zero");
    }
    return t;
  }

  /** How many items of the whole listing this page and those before it take: where it ends. */
  long stop() {
    return (long) page * limit;
  }

  /**
   * This token's page of {@code all}, and the next token when the page is full (as fleet: a list
   * of exactly 100 gets a token to an empty second page).
   */
  <T> Page<T> slice(java.util.List<T> all) {
    long start = (long) (page - 1) * limit;
    long stop = stop();
    if (start >= all.size()) {
      return new Page<>(java.util.List.of(), null);
    }
    if (stop > all.size()) {
      return new Page<>(all.subList((int) start, all.size()), null);
    }
    return new Page<>(all.subList((int) start, (int) stop), next().encode());
  }

  record Page<T>(java.util.List<T> items, String nextPageToken) {}
}
