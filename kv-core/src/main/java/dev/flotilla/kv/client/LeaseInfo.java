package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * A lease's TimeToLive: seconds left ({@code -1} when the lease does not exist: expired,
 * revoked or never granted), the TTL it was granted, and the keys attached to it.
 */
public record LeaseInfo(long id, long ttlSeconds, long grantedTtlSeconds, List<ByteString> keys, long revision) {
  public LeaseInfo {
    keys = List.copyOf(keys);
  }

  public boolean exists() {
    return ttlSeconds >= 0;
  }
}
