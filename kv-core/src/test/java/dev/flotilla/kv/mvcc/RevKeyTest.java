package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The revs key encoding: exact bytes, round trip, and order (key first, then revision). */
class RevKeyTest {

  @Test
  void escapesZeroBytesAndEndsWithTheTerminatorAndRevision() {
    byte[] k = RevKey.encode(new byte[] {'a', 0, 'b'}, 0x0102030405060708L, 9);
    assertThat(k).containsExactly('a', 0, 0xFF, 'b', 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9);
    assertThat(RevKey.seekTo(new byte[] {0, 'x'})).containsExactly(0, 0xFF, 'x');
    assertThat(RevKey.revision(k)).isEqualTo(0x0102030405060708L);
    assertThat(RevKey.userKey(k)).containsExactly('a', 0, 'b');
  }

  @Test
  void roundTripsAndKeepsKeyThenRevisionOrder() {
    Random rnd = new Random(42);
    for (int i = 0; i < 2_000; i++) {
      byte[] a = randomKey(rnd);
      byte[] b = randomKey(rnd);
      long ra = rnd.nextInt(1000);
      long rb = rnd.nextInt(1000);
      byte[] ea = RevKey.encode(a, ra, 0);
      byte[] eb = RevKey.encode(b, rb, 0);
      assertThat(RevKey.userKey(ea)).isEqualTo(a);
      assertThat(RevKey.revision(ea)).isEqualTo(ra);
      int keyOrder = Integer.signum(Arrays.compareUnsigned(a, b));
      int expected = keyOrder != 0 ? keyOrder : Long.signum(Long.compare(ra, rb));
      assertThat(Integer.signum(Arrays.compareUnsigned(ea, eb))).as("%s@%d vs %s@%d",
          Arrays.toString(a), ra, Arrays.toString(b), rb).isEqualTo(expected);
      // every version of every key >= a sorts at or after seekTo(a)
      if (keyOrder <= 0) {
        assertThat(Arrays.compareUnsigned(eb, RevKey.seekTo(a))).isGreaterThanOrEqualTo(0);
      }
    }
  }

  private static byte[] randomKey(Random rnd) {
    byte[] k = new byte[rnd.nextInt(6)];
    for (int i = 0; i < k.length; i++) {
      k[i] = (byte) (rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(256)); // plenty of zero bytes
    }
    return k;
  }
}
