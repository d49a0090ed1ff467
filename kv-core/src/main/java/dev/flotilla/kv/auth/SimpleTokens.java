package dev.flotilla.kv.auth;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * etcd's simple tokens (--auth-token simple): random strings mapped to a user name in memory, each
 * good for --auth-token-ttl after its last use. Every member assigns a token when it applies the
 * Authenticate that made it, so a token works on any member that has applied it; a restart forgets
 * tokens (clients authenticate again), as in etcd.
 */
public final class SimpleTokens {
  /** etcd's --auth-token-ttl default. */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(300);
  private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final int PREFIX_LENGTH = 16; // etcd's defaultSimpleTokenLength
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Entry(String user, long expiresAtNanos) {}

  private final Map<String, Entry> tokens = new ConcurrentHashMap<>();
  private final LongSupplier nanoClock;
  private volatile long ttlNanos = DEFAULT_TTL.toNanos();

  public SimpleTokens() {
    this(System::nanoTime);
  }

  /** {@code nanoClock}: a monotonic clock (tests drive their own). */
  public SimpleTokens(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  public void ttl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("--auth-token-ttl must be positive, got " + ttl.toSeconds() + " s");
    }
    this.ttlNanos = ttl.toNanos();
  }

  /** The random part of a new token (the proposer picks it; apply appends the log index). */
  public static String newPrefix() {
    StringBuilder sb = new StringBuilder(PREFIX_LENGTH);
    for (int i = 0; i < PREFIX_LENGTH; i++) {
      sb.append(LETTERS.charAt(RANDOM.nextInt(LETTERS.length())));
    }
    return sb.toString();
  }

  void assign(String token, String user) {
    long now = nanoClock.getAsLong();
    tokens.values().removeIf(e -> e.expiresAtNanos() - now <= 0);
    tokens.put(token, new Entry(user, now + ttlNanos));
  }

  /** The user a live token names, its TTL started again; empty for an unknown or expired token. */
  public Optional<String> user(String token) {
    long now = nanoClock.getAsLong();
    Entry e = tokens.get(token);
    if (e == null) {
      return Optional.empty();
    }
    if (e.expiresAtNanos() - now <= 0) {
      tokens.remove(token, e);
      return Optional.empty();
    }
    tokens.replace(token, e, new Entry(e.user(), now + ttlNanos));
    return Optional.of(e.user());
  }

  /** Drops every token of {@code user} (deleted, or its password changed). */
  void invalidateUser(String user) {
    for (Iterator<Entry> it = tokens.values().iterator(); it.hasNext(); ) {
      if (it.next().user().equals(user)) {
        it.remove();
      }
    }
  }

  void clear() {
    tokens.clear();
  }
}
