package dev.flotilla.kv.client;

import static dev.flotilla.kv.client.StoreClient.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.StoreTargets.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What every {@link StoreClient} must do, the same against the three targets: kvd in process,
 * kvd over jetcd, a real etcd 3.4 over jetcd (the oracle). Each test works under its own key
 * prefix, so the targets are started once for the class.
 */
class StoreClientContractTest {
  private static final long WAIT_SECONDS = 20;
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  private static String prefix(String test, Kind kind) {
    return "/contract/" + test + "-" + PREFIXES.incrementAndGet() + "/" + kind + "/";
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void putGetPrefixAndDeleteShowRevisions(Kind kind) {
    StoreClient c = targets.client(kind);
    String p = prefix("kv", kind);
    PutResult a1 = c.put(bytes(p + "a"), bytes("1"));
    assertThat(a1.prev()).isEmpty();
    PutResult b1 = c.put(bytes(p + "b/1"), bytes("x"));
    PutResult b2 = c.put(bytes(p + "b/2"), bytes("y"));
    c.put(bytes(p + "c"), bytes("z"));
    c.put(bytes(p + "b"), bytes("not under b/"));
    assertThat(b1.revision()).isEqualTo(a1.revision() + 1);
    assertThat(b2.revision()).isEqualTo(a1.revision() + 2);

    PutResult a2 = c.put(bytes(p + "a"), bytes("2"));
    assertThat(a2.prev()).hasValueSatisfying(prev -> {
      assertThat(prev.valueUtf8()).isEqualTo("1");
      assertThat(prev.modRevision()).isEqualTo(a1.revision());
    });

    GetResult a = c.get(KeyRange.key(p + "a"));
    assertThat(a.revision()).isEqualTo(a2.revision());
    KeyValue kv = a.first().orElseThrow();
    assertThat(kv.valueUtf8()).isEqualTo("2");
    assertThat(kv.createRevision()).isEqualTo(a1.revision());
    assertThat(kv.modRevision()).isEqualTo(a2.revision());
    assertThat(kv.version()).isEqualTo(2);
    assertThat(c.get(KeyRange.key(p + "a"), a1.revision()).first().orElseThrow().valueUtf8()).isEqualTo("1");
    assertThat(c.get(KeyRange.key(p + "missing")).kvs()).isEmpty();

    GetResult bs = c.get(KeyRange.prefix(p + "b/"));
    assertThat(bs.kvs()).extracting(KeyValue::keyUtf8).containsExactly(p + "b/1", p + "b/2");
    assertThat(c.get(KeyRange.prefix(p)).kvs()).hasSize(5);
    // the head of a range: the first keys in key order, at the revision asked for
    assertThat(c.get(KeyRange.prefix(p), 0, 3).kvs()).extracting(KeyValue::keyUtf8)
        .containsExactly(p + "a", p + "b", p + "b/1");
    assertThat(c.get(KeyRange.prefix(p), 0, 3).revision()).isEqualTo(c.get(KeyRange.prefix(p)).revision());
    assertThat(c.get(KeyRange.prefix(p), b1.revision(), 2).kvs()).extracting(KeyValue::keyUtf8)
        .containsExactly(p + "a", p + "b/1");
    assertThat(c.get(KeyRange.prefix(p), 0, 100).kvs()).hasSize(5);

    DeleteResult del = c.delete(KeyRange.prefix(p + "b/"));
    assertThat(del.revision()).isEqualTo(a2.revision() + 1);
    assertThat(del.deleted()).extracting(KeyValue::valueUtf8).containsExactly("x", "y");
    DeleteResult none = c.delete(KeyRange.prefix(p + "b/"));
    assertThat(none.deleted()).isEmpty();
    assertThat(none.revision()).isEqualTo(del.revision());
    assertThat(c.get(KeyRange.prefix(p)).kvs()).extracting(KeyValue::keyUtf8).containsExactly(p + "a", p + "b", p + "c");
    assertThatThrownBy(() -> c.get(KeyRange.key(p + "a"), del.revision() + 1000))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.FUTURE_REVISION));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void txnTakesThenOrElseOnCompares(Kind kind) {
    StoreClient c = targets.client(kind);
    String p = prefix("txn", kind);
    ByteString key = bytes(p + "k");

    TxnResult created = c.txn(Txn.when(Compare.absent(key)).then(Op.put(key, bytes("v1")), Op.get(KeyRange.key(p + "k"))));
    assertThat(created.succeeded()).isTrue();
    long rev1 = created.revision();
    assertThat(created.result(0, PutResult.class).prev()).isEmpty();
    assertThat(created.result(1, GetResult.class).first().orElseThrow().valueUtf8()).isEqualTo("v1");

    TxnResult again = c.txn(Txn.when(Compare.absent(key)).then(Op.put(key, bytes("lost")))
        .orElse(Op.get(KeyRange.key(p + "k"))));
    assertThat(again.succeeded()).isFalse();
    assertThat(again.revision()).isEqualTo(rev1); // the else branch only read
    assertThat(again.result(0, GetResult.class).first().orElseThrow().modRevision()).isEqualTo(rev1);

    // compare-and-set on mod revision: one writer wins, the stale one takes the else branch
    TxnResult cas = c.txn(Txn.when(Compare.unchanged(key, rev1)).then(Op.put(key, bytes("v2"))));
    assertThat(cas.succeeded()).isTrue();
    assertThat(cas.revision()).isEqualTo(rev1 + 1);
    TxnResult stale = c.txn(Txn.when(Compare.unchanged(key, rev1)).then(Op.put(key, bytes("v3"))));
    assertThat(stale.succeeded()).isFalse();
    assertThat(c.get(KeyRange.key(p + "k")).first().orElseThrow().valueUtf8()).isEqualTo("v2");

    TxnResult byValueAndVersion = c.txn(Txn.when(
            Compare.value(key, Compare.Result.EQUAL, bytes("v2")),
            Compare.version(key, Compare.Result.EQUAL, 2),
            Compare.createRevision(key, Compare.Result.EQUAL, rev1),
            Compare.modRevision(key, Compare.Result.GREATER, rev1))
        .then(Op.put(bytes(p + "other"), bytes("o")), Op.delete(KeyRange.key(p + "k")), Op.get(KeyRange.prefix(p))));
    assertThat(byValueAndVersion.succeeded()).isTrue();
    assertThat(byValueAndVersion.results()).hasSize(3);
    assertThat(byValueAndVersion.result(1, DeleteResult.class).deleted()).extracting(KeyValue::valueUtf8).containsExactly("v2");
    assertThat(byValueAndVersion.result(2, GetResult.class).kvs()).extracting(KeyValue::keyUtf8).containsExactly(p + "other");
    assertThat(byValueAndVersion.revision()).isEqualTo(rev1 + 2); // both writes in one revision

    TxnResult valueOfMissing = c.txn(Txn.when(Compare.value(key, Compare.Result.NOT_EQUAL, bytes("x"))));
    assertThat(valueOfMissing.succeeded()).as("a value compare on a missing key is false").isFalse();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void watchFromAnOldRevisionSeesEveryChangeOnceInOrder(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    String p = prefix("watch", kind);
    List<Long> expected = new ArrayList<>();
    List<String> expectedKeys = new ArrayList<>();
    long start = 0;
    for (int i = 0; i < 40; i++) {
      long rev;
      if (i % 5 == 4) {
        rev = c.delete(KeyRange.key(p + "k" + (i - 1))).revision();
        expectedKeys.add("DELETE " + p + "k" + (i - 1));
      } else {
        rev = c.put(bytes(p + "k" + i), bytes("v" + i)).revision();
        expectedKeys.add("PUT " + p + "k" + i);
      }
      c.put(bytes(p.substring(0, p.length() - 1) + "-outside"), bytes("noise")); // not in the prefix
      if (i == 10) {
        start = rev;
      }
      if (i >= 10) {
        expected.add(rev);
      }
    }
    List<String> keysFromStart = new ArrayList<>(expectedKeys.subList(10, expectedKeys.size()));
    Recorder rec = new Recorder();
    try (WatchHandle w = c.watch(KeyRange.prefix(p), start, rec)) {
      // live writes while the watch catches up from history
      for (int i = 40; i < 70; i++) {
        expected.add(c.put(bytes(p + "k" + i), bytes("v" + i)).revision());
        keysFromStart.add("PUT " + p + "k" + i);
      }
      List<WatchEvent> got = rec.take(expected.size());
      assertThat(got).extracting(WatchEvent::revision).containsExactlyElementsOf(expected);
      assertThat(got).extracting(e -> e.type() + " " + e.kv().keyUtf8()).containsExactlyElementsOf(keysFromStart);
      assertThat(got.get(got.size() - 1).kv().valueUtf8()).isEqualTo("v69");
      assertThat(rec.compacted).isNotDone();
      assertThat(rec.error).isNotDone();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aRevokeDeletesEveryKeyOfItsLeaseInOneRevision(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    String p = prefix("revoke", kind);
    LeaseGrant lease = c.grant(60);
    assertThat(lease.ttlSeconds()).isEqualTo(60);
    long first = c.put(bytes(p + "a"), bytes("1"), lease.id()).revision();
    c.put(bytes(p + "b"), bytes("2"), lease.id());
    c.put(bytes(p + "kept"), bytes("3"));

    LeaseInfo info = c.timeToLive(lease.id());
    assertThat(info.exists()).isTrue();
    assertThat(info.grantedTtlSeconds()).isEqualTo(60);
    assertThat(info.ttlSeconds()).isBetween(1L, 60L);
    assertThat(info.keys()).extracting(ByteString::toStringUtf8).containsExactlyInAnyOrder(p + "a", p + "b");

    Recorder rec = new Recorder();
    try (WatchHandle w = c.watch(KeyRange.prefix(p), first, rec)) {
      long revoked = c.revoke(lease.id());
      List<WatchEvent> got = rec.take(5);
      assertThat(got).extracting(e -> e.type() + " " + e.kv().keyUtf8() + " @" + (e.revision() - first))
          .containsExactly("PUT " + p + "a @0", "PUT " + p + "b @1", "PUT " + p + "kept @2",
              "DELETE " + p + "a @" + (revoked - first), "DELETE " + p + "b @" + (revoked - first));
    }
    assertThat(c.get(KeyRange.prefix(p)).kvs()).extracting(KeyValue::keyUtf8).containsExactly(p + "kept");
    assertThat(c.timeToLive(lease.id()).exists()).isFalse();
    assertThatThrownBy(() -> c.revoke(lease.id()))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.LEASE_NOT_FOUND));
    assertThatThrownBy(() -> c.put(bytes(p + "late"), bytes("x"), lease.id()))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.LEASE_NOT_FOUND));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void keepAliveHoldsALeaseWhileAnUnrenewedOneExpiresAndDeletesItsKeys(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    String p = prefix("expiry", kind);
    LeaseGrant kept = c.grant(2);
    LeaseGrant left = c.grant(4); // outlives kept's first TTL by two seconds
    long first = c.put(bytes(p + "kept"), bytes("k"), kept.id()).revision();
    c.put(bytes(p + "left"), bytes("l"), left.id());
    Recorder rec = new Recorder();
    try (KeepAlive ka = c.keepAlive(kept.id()); WatchHandle w = c.watch(KeyRange.prefix(p), first + 2, rec)) {
      WatchEvent gone = rec.take(1).get(0);
      assertThat(gone.type()).isEqualTo(WatchEvent.Type.DELETE);
      assertThat(gone.kv().keyUtf8()).isEqualTo(p + "left");
      // kept's own TTL ran out two seconds ago: only the keep-alive holds it
      assertThat(c.get(KeyRange.key(p + "kept")).kvs()).hasSize(1);
      assertThat(c.timeToLive(kept.id()).exists()).isTrue();
      assertThat(c.timeToLive(left.id()).exists()).isFalse();
      assertThat(ka.lost()).isNotDone();
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aKeepAliveReportsItsLeaseLostWhenRevoked(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    LeaseGrant lease = c.grant(3);
    try (KeepAlive ka = c.keepAlive(lease.id())) {
      c.revoke(lease.id());
      StoreException why = ka.lost().get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(why.code()).isEqualTo(StoreException.Code.LEASE_NOT_FOUND);
      assertThat(ka.leaseId()).isEqualTo(lease.id());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aWatchFromACompactedRevisionReportsTheCompaction(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    String p = prefix("compact", kind);
    long r1 = c.put(bytes(p + "k"), bytes("1")).revision();
    c.put(bytes(p + "k"), bytes("2"));
    long r3 = c.put(bytes(p + "k"), bytes("3")).revision();
    c.compact(r3);
    assertThatThrownBy(() -> c.get(KeyRange.key(p + "k"), r1))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.COMPACTED));
    assertThat(c.get(KeyRange.key(p + "k"), r3).first().orElseThrow().valueUtf8()).isEqualTo("3");

    Recorder old = new Recorder();
    try (WatchHandle w = c.watch(KeyRange.key(p + "k"), r1, old)) {
      assertThat(old.compacted.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(r3);
      assertThat(old.events).isEmpty();
    }
    // from the compact revision itself the history is still there
    Recorder fresh = new Recorder();
    try (WatchHandle w = c.watch(KeyRange.key(p + "k"), r3, fresh)) {
      assertThat(fresh.take(1)).extracting(WatchEvent::revision).containsExactly(r3);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aClosedClientRefusesCallsAndItsWatchesFallSilent(Kind kind) throws Exception {
    StoreClient c = targets.client(kind);
    StoreClient other = targets.client(kind);
    String p = prefix("closed", kind);
    long from = c.put(bytes(p + "k"), bytes("1")).revision() + 1;
    Recorder closedWatch = new Recorder();
    Recorder witness = new Recorder();
    c.watch(KeyRange.prefix(p), from, closedWatch);
    c.close();
    assertThatThrownBy(() -> c.get(KeyRange.key(p + "k")))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.CLOSED));
    try (WatchHandle w = other.watch(KeyRange.prefix(p), from, witness)) {
      long rev = other.put(bytes(p + "k"), bytes("2")).revision();
      assertThat(witness.take(1)).extracting(WatchEvent::revision).containsExactly(rev);
      assertThat(closedWatch.events).isEmpty();
    }
  }

  /** Collects a watch's calls; {@link #take} waits for events with a deadline. */
  static final class Recorder implements WatchListener {
    final BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
    final CompletableFuture<Long> compacted = new CompletableFuture<>();
    final CompletableFuture<StoreException> error = new CompletableFuture<>();

    @Override
    public void onEvents(List<WatchEvent> batch) {
      events.addAll(batch);
    }

    @Override
    public void onCompacted(long compactRevision) {
      compacted.complete(compactRevision);
    }

    @Override
    public void onError(StoreException e) {
      error.complete(e);
    }

    List<WatchEvent> take(int n) throws InterruptedException {
      List<WatchEvent> out = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (out.size() < n) {
        WatchEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (e == null) {
          throw new AssertionError("only " + out.size() + " of " + n + " watch events within " + WAIT_SECONDS
              + " s: " + out + (error.isDone() ? "; watch error " + error.join() : ""));
        }
        out.add(e);
      }
      // nothing extra may follow from what was written (no duplicates): whatever is queued now is a surplus
      assertThat(events).as("events beyond the %d expected", n).isEmpty();
      return out;
    }
  }
}
