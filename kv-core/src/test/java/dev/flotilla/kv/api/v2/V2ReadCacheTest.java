package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.v2.V2Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cache finds an answer only under the stamp it was rendered at, and keeps to its byte bound. */
class V2ReadCacheTest {
  private static final V2ReadCache.Key A = new V2ReadCache.Key("/a", false, false);

  private static V2ReadCache.Answer answer(String body, long index) {
    return new V2ReadCache.Answer(HttpResponseStatus.OK, index, body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anAnswerIsFoundOnlyUnderItsOwnStampAndItsOwnRequest() {
    var cache = new V2ReadCache(1 << 20);
    var a = answer("{\"a\":1}", 5);
    cache.put(A, 256, a);
    assertThat(cache.get(A, 256)).isSameAs(a);
    assertThat(cache.get(A, 512)).isNull();
    assertThat(cache.get(new V2ReadCache.Key("/a", true, false), 256)).isNull();
    assertThat(cache.get(new V2ReadCache.Key("/a", false, true), 256)).isNull();
    assertThat(cache.get(new V2ReadCache.Key("/a/", false, false), 256)).isNull();
    cache.put(A, 0, a); // 0: a write was under way, nothing is known
    assertThat(cache.get(A, 0)).isNull();
  }

  /**
   * The race a cache of reads must survive: a reader renders the old state, a write lands, a
   * second reader renders and keeps the new state, then the first one's answer arrives. It must
   * neither be found under the new stamp nor push out the new answer.
   */
  @Test
  void anAnswerFromAnOlderStateThanTheCachesIsDropped() {
    var cache = new V2ReadCache(1 << 20);
    var fresh = answer("{\"new\":1}", 7);
    cache.put(A, 512, fresh);
    cache.put(A, 256, answer("{\"old\":1}", 6));
    assertThat(cache.get(A, 512)).isSameAs(fresh);
    assertThat(cache.get(A, 256)).isNull();
  }

  @Test
  void aNewerStampDropsEveryOlderAnswer() {
    var cache = new V2ReadCache(1 << 20);
    var b = new V2ReadCache.Key("/b", false, false);
    cache.put(A, 256, answer("a", 1));
    cache.put(b, 256, answer("b", 1));
    cache.put(A, 512, answer("a2", 2));
    assertThat(cache.get(b, 256)).isNull();
    assertThat(cache.get(b, 512)).isNull();
    assertThat(cache.bytes()).isEqualTo(V2ReadCache.cost(A, answer("a2", 2)));
  }

  @Test
  void theBytesHeldStayWithinTheBoundAndTheLatestAnswerIsKept() {
    long max = 64 << 10;
    var cache = new V2ReadCache(max);
    String body = "x".repeat(300);
    for (int i = 0; i < 2_000; i++) {
      var key = new V2ReadCache.Key("/k" + i, false, false);
      var a = answer(body, 3);
      cache.put(key, 256, a);
      assertThat(cache.bytes()).isLessThanOrEqualTo(max);
      assertThat(cache.get(key, 256)).isSameAs(a);
    }
    // too big for the bound's eighth: not kept at all
    var big = new V2ReadCache.Key("/big", false, false);
    cache.put(big, 256, answer("y".repeat((int) (max / 8)), 3));
    assertThat(cache.get(big, 256)).isNull();
  }

  @Test
  void anyExpiryInTheAnswerMakesItTimeDependent() {
    V2Node plain = new V2Node("/d/a", "1", false, 0, 0, 3, 3, null);
    V2Node ttl = new V2Node("/d/b", "2", false, 1_000_000_000L, 1, 4, 4, null);
    assertThat(V2ReadCache.timeDependent(plain)).isFalse();
    assertThat(V2ReadCache.timeDependent(null)).isFalse();
    assertThat(V2ReadCache.timeDependent(ttl)).isTrue();
    V2Node dir = new V2Node("/d", null, true, 0, 0, 2, 2, List.of(plain));
    assertThat(V2ReadCache.timeDependent(dir)).isFalse();
    V2Node deep = new V2Node("/", null, true, 0, 0, 0, 0,
        List.of(new V2Node("/d", null, true, 0, 0, 2, 2, List.of(plain, ttl))));
    assertThat(V2ReadCache.timeDependent(deep)).isTrue();
    assertThat(V2ReadCache.timeDependent(new V2Node("/e", null, true, 5, 1, 2, 2, List.of()))).isTrue();
  }
}
