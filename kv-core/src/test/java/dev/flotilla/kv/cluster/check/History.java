package dev.flotilla.kv.cluster.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Records what clients did, from any number of threads. A client takes an {@link Invocation} just
 * before it sends a request (that reads the call time) and completes it once it knows the answer
 * (that reads the return time):
 *
 * <pre>{@code
 * History.Invocation inv = history.invokeCas(client, "/k", "v1", "v2");
 * try {
 *   int status = put("/v2/keys/k?prevValue=v1", "v2");
 *   if (status == 200 || status == 201) inv.ok();
 *   else if (status == 412 || status == 404) inv.fail();   // compare failed / key not found
 *   else inv.unknown();                                    // 5xx: may or may not have happened
 * } catch (IOException timeoutOrReset) {
 *   inv.unknown();
 * }
 * }</pre>
 *
 * An invocation never completed (its client thread was stuck or killed) counts as unknown. A
 * request that surely had no effect (connection refused before anything was sent) can be
 * {@link Invocation#discard() discarded}.
 *
 * <p>Saved as JSON Lines, one op per line in id order ({@link #save}, {@link #load}), so a failing
 * run can be kept next to its logs and checked again.
 */
public final class History {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LongSupplier clock;
  private final AtomicInteger nextId = new AtomicInteger();
  private final Map<Integer, Invocation> pending = new ConcurrentHashMap<>();
  private final Map<Integer, Op> done = new ConcurrentHashMap<>();

  /** A history timed by {@link System#nanoTime()}. */
  public History() {
    this(System::nanoTime);
  }

  /** A history timed by {@code nanoClock}: monotonic, and the same clock for every client. */
  public History(LongSupplier nanoClock) {
    this.clock = nanoClock;
  }

  public Invocation invokeRead(int client, String key) {
    return invoke(client, key, Kind.READ, null, null);
  }

  public Invocation invokeWrite(int client, String key, String value) {
    return invoke(client, key, Kind.WRITE, null, value);
  }

  /** PUT with {@code prevValue=expected}. */
  public Invocation invokeCas(int client, String key, String expected, String value) {
    return invoke(client, key, Kind.CAS, expected, value);
  }

  /** PUT with {@code prevExist=false}. */
  public Invocation invokeCreate(int client, String key, String value) {
    return invoke(client, key, Kind.CREATE, null, value);
  }

  public Invocation invokeDelete(int client, String key) {
    return invoke(client, key, Kind.DELETE, null, null);
  }

  private Invocation invoke(int client, String key, Kind kind, String expected, String value) {
    int id = nextId.getAndIncrement();
    // Validates the arguments now, in the client's thread, rather than at check time.
    Op op = new Op(id, client, key, kind, expected, value, clock.getAsLong(), Op.NEVER,
        Outcome.UNKNOWN, null);
    Invocation inv = new Invocation(op);
    pending.put(id, inv);
    return inv;
  }

  /** An operation in flight; complete it exactly once. */
  public final class Invocation {
    private final Op invoked;
    private final AtomicBoolean completed = new AtomicBoolean();

    private Invocation(Op invoked) {
      this.invoked = invoked;
    }

    /** The write, CAS, create or delete succeeded. */
    public void ok() {
      if (invoked.kind() == Kind.READ) {
        throw new IllegalStateException("complete a read with read(value), not ok(): " + invoked);
      }
      complete(Outcome.OK, null);
    }

    /** The read returned {@code value}; null when the key was not found. */
    public void read(String value) {
      if (invoked.kind() != Kind.READ) {
        throw new IllegalStateException("read(value) completes reads only: " + invoked);
      }
      complete(Outcome.OK, value);
    }

    /** The CAS compare failed, the create found the key, the delete did not. */
    public void fail() {
      complete(Outcome.FAIL, null);
    }

    /** No answer, or one that does not say whether it happened (timeout, reset, 5xx). */
    public void unknown() {
      finish();
      // Kept as invoked: ret NEVER, outcome UNKNOWN.
      done.put(invoked.id(), invoked);
      pending.remove(invoked.id());
    }

    /** The request surely had no effect (it was never sent): leave it out of the history. */
    public void discard() {
      finish();
      pending.remove(invoked.id());
    }

    private void complete(Outcome outcome, String observed) {
      long ret = clock.getAsLong();
      Op op = new Op(invoked.id(), invoked.client(), invoked.key(), invoked.kind(),
          invoked.expected(), invoked.value(), invoked.call(), ret, outcome, observed);
      finish();
      done.put(op.id(), op);
      pending.remove(op.id());
    }

    private void finish() {
      if (!completed.compareAndSet(false, true)) {
        throw new IllegalStateException("completed twice: " + invoked);
      }
    }
  }

  /** A snapshot in id order; invocations not completed yet are in it with an unknown outcome. */
  public List<Op> ops() {
    // Pending first: an op completing meanwhile is then seen in both maps, never in neither.
    List<Invocation> inFlight = List.copyOf(pending.values());
    Map<Integer, Op> all = new HashMap<>(done);
    for (Invocation inv : inFlight) {
      all.putIfAbsent(inv.invoked.id(), inv.invoked);
    }
    List<Op> out = new ArrayList<>(all.values());
    out.sort(Comparator.comparingInt(Op::id));
    return out;
  }

  /** Writes {@link #ops()} to {@code file}, one JSON object a line. */
  public void save(Path file) {
    save(ops(), file);
  }

  public static void save(List<Op> ops, Path file) {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Op op : ops) {
        w.write(JSON.writeValueAsString(op));
        w.newLine();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write history to " + file, e);
    }
  }

  /** Reads a file written by {@link #save}; blank lines are skipped. */
  public static List<Op> load(Path file) {
    List<Op> ops = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int n = 0;
      for (String line; (line = r.readLine()) != null; ) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        try {
          ops.add(JSON.readValue(line, Op.class));
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException(file + " line " + n + " is not an op: " + line, e);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read history from " + file, e);
    }
    return ops;
  }
}
