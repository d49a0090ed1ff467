package dev.flotilla.kv.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** {@link KeyRange}: etcd's prefix end (clientv3's GetPrefixRangeEnd) and membership. */
class StoreClientKeyRangeTest {

  private static ByteString b(int... bytes) {
    byte[] out = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = (byte) bytes[i];
    }
    return ByteString.copyFrom(out);
  }

  @Test
  void aPrefixEndsAtItsLastByteIncremented() {
    assertThat(KeyRange.prefix("/a/").end()).isEqualTo(ByteString.copyFromUtf8("/a0"));
    assertThat(KeyRange.prefix(b('a', 0xff)).end()).as("trailing 0xff bytes drop off").isEqualTo(b('b'));
    assertThat(KeyRange.prefix(b(0xff, 0xff)).end()).as("all 0xff: every key from there").isEqualTo(b(0));
    assertThat(KeyRange.prefix("")).as("an empty prefix is every key").isEqualTo(new KeyRange(b(0), b(0)));
  }

  @Test
  void membershipFollowsTheRange() {
    KeyRange units = KeyRange.prefix("/flotilla/units/");
    assertThat(units.contains(ByteString.copyFromUtf8("/flotilla/units/web.service"))).isTrue();
    assertThat(units.contains(ByteString.copyFromUtf8("/flotilla/units"))).isFalse();
    assertThat(units.contains(ByteString.copyFromUtf8("/flotilla/units0"))).isFalse();
    assertThat(KeyRange.key("k").contains(ByteString.copyFromUtf8("k"))).isTrue();
    assertThat(KeyRange.key("k").contains(ByteString.copyFromUtf8("k2"))).isFalse();
    assertThat(KeyRange.prefix(b(0xff)).contains(b(0xff, 0xff, 1))).isTrue();
    assertThat(KeyRange.prefix("").contains(b(0xff))).isTrue();
  }

  @Test
  void aRangeNeedsAKey() {
    assertThatThrownBy(() -> KeyRange.key("")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KeyRange.prefix(\"\")");
  }
}
