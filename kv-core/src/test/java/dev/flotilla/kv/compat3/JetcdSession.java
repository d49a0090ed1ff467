package dev.flotilla.kv.compat3;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * One jetcd session against one server, written down as lines of text in which revisions are
 * offsets from the session's start ({@code R+3}) and leases are numbered in grant order: the
 * transcripts of etcd and kvd must be equal. It also checks what must hold on any server (watch
 * events in revision order, none lost) and reports a breach as a line starting with "BROKEN".
 */
final class JetcdSession {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private final V3Server server;
  private final List<String> lines = new ArrayList<>();
  private final List<Long> leases = new ArrayList<>();
  private long base;

  JetcdSession(V3Server server) {
    this.server = server;
  }

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  List<String> run() throws Exception {
    try (Client client = Client.builder().endpoints(server.clientUrl()).build()) {
      KV kv = client.getKVClient();
      base = kv.get(bs("probe")).get().getHeader().getRevision();
      keys(kv);
      txns(kv);
      errors(kv);
      watchFromRevision(kv, client.getWatchClient());
      leases(kv, client.getLeaseClient(), client.getWatchClient());
      compaction(kv, client.getWatchClient());
    }
    return lines;
  }

  private void keys(KV kv) throws Exception {
    note("put a", kv.put(bs("a"), bs("1")).get().getHeader().getRevision());
    for (int i = 1; i <= 3; i++) {
      note("put b/" + i, kv.put(bs("b/" + i), bs("v" + i)).get().getHeader().getRevision());
    }
    var p = kv.put(bs("a"), bs("2"), PutOption.builder().withPrevKV().build()).get();
    add("put a again: rev " + rel(p.getHeader().getRevision()) + " prev " + kv(p.getPrevKv()) + " hasPrev " + p.hasPrevKv());
    add("get a: " + get(kv.get(bs("a")).get()));
    add("get missing: " + get(kv.get(bs("missing")).get()));
    add("get prefix b/: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true).build()).get()));
    add("get prefix b/ limit 2 desc: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true).withLimit(2)
        .withSortOrder(GetOption.SortOrder.DESCEND).build()).get()));
    add("get prefix b/ by value desc: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true)
        .withSortField(GetOption.SortTarget.VALUE).withSortOrder(GetOption.SortOrder.DESCEND).build()).get()));
    add("get prefix b/ count only: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true).withCountOnly(true).build()).get()));
    add("get prefix b/ keys only: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true).withKeysOnly(true).build()).get()));
    add("get range [a, b/2): " + get(kv.get(bs("a"), GetOption.builder().withRange(bs("b/2")).build()).get()));
    add("get a at R+1: " + get(kv.get(bs("a"), GetOption.builder().withRevision(base + 1).build()).get()));
    add("get prefix b/ mod in [R+3, R+3]: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true)
        .withMinModRevision(base + 3).withMaxModRevision(base + 3).build()).get()));
    add("get prefix b/ created >= R+3: " + get(kv.get(bs("b/"), GetOption.builder().isPrefix(true)
        .withMinCreateRevision(base + 3).build()).get()));
    add("get serializable: " + get(kv.get(bs("a"), GetOption.builder().withSerializable(true).build()).get()));
  }

  private void txns(KV kv) throws Exception {
    add("txn value(a)=2: " + txn(kv.txn().If(new Cmp(bs("a"), Cmp.Op.EQUAL, CmpTarget.value(bs("2"))))
        .Then(Op.put(bs("a"), bs("3"), PutOption.builder().withPrevKV().build()), Op.get(bs("a"), GetOption.DEFAULT))
        .Else(Op.get(bs("b/1"), GetOption.DEFAULT)).commit().get()));
    add("txn version(a)>5: " + txn(kv.txn().If(new Cmp(bs("a"), Cmp.Op.GREATER, CmpTarget.version(5)))
        .Then(Op.put(bs("never"), bs("x"), PutOption.DEFAULT))
        .Else(Op.delete(bs("b/3"), DeleteOption.builder().withPrevKV(true).build()), Op.get(bs("b/"),
            GetOption.builder().isPrefix(true).build())).commit().get()));
    add("txn create(a)=R+1 and mod(a)<R+100: " + txn(kv.txn().If(
        new Cmp(bs("a"), Cmp.Op.EQUAL, CmpTarget.createRevision(base + 1)),
        new Cmp(bs("a"), Cmp.Op.LESS, CmpTarget.modRevision(base + 100)),
        new Cmp(bs("missing"), Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.txn(new Cmp[] {new Cmp(bs("b/1"), Cmp.Op.EQUAL, CmpTarget.value(bs("v1")))},
            new Op[] {Op.put(bs("nested"), bs("yes"), PutOption.DEFAULT), Op.get(bs("nested"), GetOption.DEFAULT)},
            new Op[] {Op.put(bs("nested"), bs("no"), PutOption.DEFAULT)}),
            Op.put(bs("after-nested"), bs("1"), PutOption.DEFAULT))
        .commit().get()));
    add("txn value(missing)='' fails: " + txn(kv.txn().If(new Cmp(bs("missing"), Cmp.Op.EQUAL, CmpTarget.value(bs(""))))
        .Then(Op.put(bs("never"), bs("x"), PutOption.DEFAULT)).commit().get()));
    add("txn no compare: " + txn(kv.txn().Then(Op.put(bs("t1"), bs("a"), PutOption.DEFAULT),
        Op.delete(bs("nested"), DeleteOption.builder().withPrevKV(true).build())).commit().get()));
  }

  private void errors(KV kv) {
    add("get at R+1000: " + error(() -> kv.get(bs("a"), GetOption.builder().withRevision(base + 1000).build())));
    add("put unknown lease: " + error(() -> kv.put(bs("x"), bs("y"), PutOption.builder().withLeaseId(0x1234).build())));
    add("txn duplicate put: " + error(() -> kv.txn().Then(Op.put(bs("d"), bs("1"), PutOption.DEFAULT),
        Op.put(bs("d"), bs("2"), PutOption.DEFAULT)).commit()));
    add("compact future: " + error(() -> kv.compact(base + 1000)));
  }

  /** Events from a past revision, then live ones written while watching: all, in order, once. */
  private void watchFromRevision(KV kv, Watch watch) throws Exception {
    long from = kv.get(bs("probe")).get().getHeader().getRevision() + 1;
    List<String> written = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      kv.put(bs("w/" + (i % 7)), bs("h" + i)).get();
      written.add("PUT w/" + (i % 7) + "=h" + i);
      if (i % 5 == 4) {
        kv.delete(bs("w/" + (i % 7))).get();
        written.add("DELETE w/" + (i % 7));
      }
    }
    List<WatchEvent> events = new CopyOnWriteArrayList<>();
    List<Long> headerRevs = new CopyOnWriteArrayList<>();
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    try (Watch.Watcher w = watch.watch(bs("w/"), WatchOption.builder().isPrefix(true).withPrevKV(true)
        .withRevision(from).build(), Watch.listener(r -> {
          events.addAll(r.getEvents());
          headerRevs.add(r.getHeader().getRevision());
        }, failed::complete))) {
      for (int i = 20; i < 40; i++) {
        kv.put(bs("w/" + (i % 7)), bs("l" + i)).get();
        written.add("PUT w/" + (i % 7) + "=l" + i);
      }
      await(() -> events.size() >= written.size() || failed.isDone(), "all watch events");
    }
    List<String> seen = events.stream().map(e -> e.getEventType() + " " + e.getKeyValue().getKey().toString(UTF_8)
        + (e.getEventType() == WatchEvent.EventType.PUT ? "=" + e.getKeyValue().getValue().toString(UTF_8) : ""))
        .toList();
    if (!seen.equals(written)) {
      add("BROKEN watch from R+" + (from - base) + ": wrote " + written + " but saw " + seen);
    }
    long last = 0;
    for (WatchEvent e : events) {
      if (e.getKeyValue().getModRevision() < last) {
        add("BROKEN watch: revision " + e.getKeyValue().getModRevision() + " after " + last);
      }
      last = e.getKeyValue().getModRevision();
    }
    add("watch from R+" + (from - base) + ": " + events.size() + " events, error " + failed.getNow(null));
    for (WatchEvent e : events) {
      add("  " + e.getEventType() + " " + kv(e.getKeyValue()) + " prev " + kv(e.getPrevKV()));
    }
    add("  header revisions never behind the events: "
        + (headerRevs.stream().allMatch(r -> r >= from) ? "yes" : "no " + headerRevs));
  }

  private void leases(KV kv, Lease lease, Watch watch) throws Exception {
    long shortLease = grant(lease, 1); // etcd's smallest TTL is 2 s
    long longLease = grant(lease, 30);
    long keptLease = grant(lease, 2);
    kv.put(bs("lk/short"), bs("s"), PutOption.builder().withLeaseId(shortLease).build()).get();
    kv.put(bs("lk/long"), bs("l"), PutOption.builder().withLeaseId(longLease).build()).get();
    kv.put(bs("lk/kept"), bs("k"), PutOption.builder().withLeaseId(keptLease).build()).get();
    List<String> deletes = new CopyOnWriteArrayList<>();
    try (Watch.Watcher w = watch.watch(bs("lk/"), WatchOption.builder().isPrefix(true).withNoPut(true).build(),
        r -> r.getEvents().forEach(e -> deletes.add(e.getEventType() + " " + e.getKeyValue().getKey().toString(UTF_8))));
        var kept = lease.keepAlive(keptLease, new StreamObserver<LeaseKeepAliveResponse>() {
          @Override
          public void onNext(LeaseKeepAliveResponse r) {
          }

          @Override
          public void onError(Throwable t) {
            add("keep-alive error " + t);
          }

          @Override
          public void onCompleted() {
          }
        })) {
      var ttl = lease.timeToLive(longLease, LeaseOption.builder().withAttachedKeys().build()).get();
      add("timeToLive lease" + num(ttl.getID()) + ": granted " + ttl.getGrantedTTL() + " ttl " + ttlText(ttl.getTTL(), 30)
          + " keys " + ttl.getKeys().stream().map(k -> k.toString(UTF_8)).toList());
      var once = lease.keepAliveOnce(longLease).get();
      add("keepAliveOnce lease" + num(once.getID()) + ": ttl " + once.getTTL());
      await(() -> getQuietly(kv, "lk/short").getCount() == 0, "the short lease to expire");
      add("after the short lease expired: " + get(kv.get(bs("lk/"), GetOption.builder().isPrefix(true).build()).get()));
      var gone = lease.timeToLive(shortLease, LeaseOption.DEFAULT).get();
      add("timeToLive expired lease" + num(gone.getID()) + ": ttl " + gone.getTTL() + " granted " + gone.getGrantedTTL());
      lease.revoke(longLease).get();
      add("after revoking the long lease: " + get(kv.get(bs("lk/"), GetOption.builder().isPrefix(true).build()).get()));
      add("revoke again: " + error(() -> lease.revoke(longLease)));
      await(() -> deletes.size() >= 2, "the delete events of expired and revoked leases");
      add("watch saw: " + deletes);
    }
    lease.revoke(keptLease).get();
    add("after revoking the kept lease: " + get(kv.get(bs("lk/"), GetOption.builder().isPrefix(true).build()).get()));
  }

  private void compaction(KV kv, Watch watch) throws Exception {
    var del = kv.delete(bs("b/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build()).get();
    add("delete prefix b/: deleted " + del.getDeleted() + " prev " + del.getPrevKvs().stream().map(this::kv).toList()
        + " rev " + rel(del.getHeader().getRevision()));
    kv.compact(base + 5).get();
    add("compacted at R+5");
    add("get at R+4: " + error(() -> kv.get(bs("a"), GetOption.builder().withRevision(base + 4).build())));
    add("get at R+5: " + get(kv.get(bs("a"), GetOption.builder().withRevision(base + 5).build()).get()));
    add("compact R+5 again: " + error(() -> kv.compact(base + 5)));
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    try (Watch.Watcher w = watch.watch(bs("a"), WatchOption.builder().withRevision(base + 2).build(),
        Watch.listener(r -> { }, failed::complete))) {
      Throwable t = failed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      add("watch from compacted R+2: " + t.getClass().getSimpleName() + ": " + t.getMessage());
    }
  }

  private long grant(Lease lease, long ttl) throws Exception {
    var g = lease.grant(ttl).get();
    leases.add(g.getID());
    add("grant " + ttl + ": lease" + num(g.getID()) + " ttl " + g.getTTL() + " rev " + rel(g.getHeader().getRevision()));
    return g.getID();
  }

  private static GetResponse getQuietly(KV kv, String key) {
    try {
      return kv.get(bs(key)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  private void await(BooleanSupplier done, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        add("BROKEN: gave up waiting for " + what + " after " + WAIT);
        return;
      }
      try {
        Thread.sleep(50); // poll interval; the loop re-checks the condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private String txn(TxnResponse t) {
    StringBuilder s = new StringBuilder("succeeded " + t.isSucceeded() + " rev " + rel(t.getHeader().getRevision()));
    t.getPutResponses().forEach(p -> s.append(" | put rev ").append(rel(p.getHeader().getRevision()))
        .append(p.hasPrevKv() ? " prev " + kv(p.getPrevKv()) : ""));
    t.getGetResponses().forEach(g -> s.append(" | get ").append(get(g)));
    t.getDeleteResponses().forEach(d -> s.append(" | delete ").append(d.getDeleted()).append(" prev ")
        .append(d.getPrevKvs().stream().map(this::kv).toList()).append(" rev ").append(rel(d.getHeader().getRevision())));
    t.getTxnResponses().forEach(n -> s.append(" | txn [").append(txn(n)).append("]"));
    return s.toString();
  }

  private String get(GetResponse g) {
    return "rev " + rel(g.getHeader().getRevision()) + " count " + g.getCount() + " more " + g.isMore() + " "
        + g.getKvs().stream().map(this::kv).collect(Collectors.joining(", ", "[", "]"));
  }

  private String kv(KeyValue kv) {
    if (kv == null || kv.getKey().isEmpty() && kv.getModRevision() == 0) {
      return "-";
    }
    return kv.getKey().toString(UTF_8) + "=" + kv.getValue().toString(UTF_8) + " c" + rel(kv.getCreateRevision())
        + " m" + rel(kv.getModRevision()) + " v" + kv.getVersion() + (kv.getLease() == 0 ? "" : " lease" + num(kv.getLease()));
  }

  private String error(java.util.concurrent.Callable<? extends CompletableFuture<?>> call) {
    try {
      Object r = call.call().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return "no error: " + r.getClass().getSimpleName();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      return c.getClass().getSimpleName() + ": " + c.getMessage();
    } catch (Exception e) {
      return "failed: " + e;
    }
  }

  private String num(long leaseId) {
    int i = leases.indexOf(leaseId);
    return i < 0 ? "?" + leaseId : Integer.toString(i + 1);
  }

  /** A remaining TTL a little under the granted one depends on the client's speed. */
  private static String ttlText(long ttl, long granted) {
    return ttl < granted && ttl > granted - 3 ? granted + "-" : Long.toString(ttl);
  }

  private String rel(long rev) {
    return rev == 0 ? "0" : "R" + (rev >= base ? "+" : "") + (rev - base);
  }

  private void note(String what, long rev) {
    add(what + ": rev " + rel(rev));
  }

  private synchronized void add(String line) {
    lines.add(line);
  }
}
