package dev.flotilla.scheduler.api;

import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit of unit creations: fleetctl sends one {@code PUT /fleet/v1/units/<name>} per unit,
 * and {@code fctl start web@{1..300}} sends them side by side. Each caller blocks in
 * {@link #create} until its unit's creation is committed by the store (or refused); while one
 * batch is in flight, the creations that arrive queue up and go together as the next batch, through
 * {@link UnitRegistry#createAll} (up to 128 units per store txn). One request alone is written at
 * once, as before; many concurrent ones cost a few txns instead of one each.
 *
 * <p>Leader/follower, no thread of its own: the caller that finds no batch in flight sends the
 * queue; the others wait for it to say how theirs went. A batch never holds two creations of one
 * name (a txn may not put one key twice): the second waits for the next batch, where it finds the
 * name taken.
 */
final class CreateGroupCommit {
  private static final Logger log = LoggerFactory.getLogger(CreateGroupCommit.class);
  private final UnitRegistry units;
  private final Object lock = new Object();
  private final List<Pending> queue = new ArrayList<>();
  private boolean inFlight;
  private long batches;
  private long created;

  CreateGroupCommit(UnitRegistry units) {
    this.units = Objects.requireNonNull(units);
  }

  private static final class Pending {
    final UnitRecord unit;
    boolean done;
    boolean result;
    RuntimeException failure;

    Pending(UnitRecord unit) {
      this.unit = unit;
    }
  }

  /** Creations waiting for the batch in flight to end (for tests). */
  int queued() {
    synchronized (lock) {
      return queue.size();
    }
  }

  /** Batches sent and units created so far (for tests and logs). */
  long[] counts() {
    synchronized (lock) {
      return new long[] {batches, created};
    }
  }

  /**
   * Creates the unit, grouped with the creations of other threads; returns once the store has
   * committed it (true) or found the name taken (false); throws the store's failure.
   */
  boolean create(UnitRecord unit) {
    Pending mine = new Pending(Objects.requireNonNull(unit));
    List<Pending> batch;
    synchronized (lock) {
      queue.add(mine);
      while (inFlight && !mine.done) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          // it may still be sent by the leader: the caller learns nothing certain, as with a timeout
          queue.remove(mine);
          throw new IllegalStateException("interrupted while creating " + unit.name().name(), e);
        }
      }
      if (mine.done) {
        return outcome(mine);
      }
      inFlight = true;
      batch = takeBatch();
    }
    List<Boolean> results = null;
    RuntimeException failure = null;
    long t0 = System.nanoTime();
    try {
      results = units.createAll(batch.stream().map(p -> p.unit).toList());
    } catch (RuntimeException e) {
      failure = e;
    } finally {
      // also when createAll threw an Error (no results and no failure): its waiters learn so, and
      // the next batch can go (a flag left set would wedge every later creation of this fleetd)
      log.debug("a batch of {} creations took {} ms", batch.size(), (System.nanoTime() - t0) / 1_000_000);
      synchronized (lock) {
        batches++;
        for (int i = 0; i < batch.size(); i++) {
          Pending p = batch.get(i);
          p.done = true;
          if (failure != null) {
            p.failure = failure;
          } else if (results == null) {
            p.failure = new IllegalStateException("creating " + p.unit.name().name()
                + " failed: the batch it was in ended with an unexpected error (see fleetd's log)");
          } else {
            p.result = results.get(i);
            created += p.result ? 1 : 0;
          }
        }
        inFlight = false;
        lock.notifyAll(); // the waiters learn their outcome; one of those still queued leads the next batch
      }
    }
    return outcome(mine);
  }

  /** The queued creations, the first of each name (later ones stay for the next batch). */
  private List<Pending> takeBatch() {
    List<Pending> batch = new ArrayList<>(queue.size());
    Set<String> names = new HashSet<>();
    for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (names.add(p.unit.name().name())) {
        batch.add(p);
        it.remove();
      }
    }
    return batch;
  }

  private static boolean outcome(Pending p) {
    if (p.failure != null) {
      throw p.failure;
    }
    return p.result;
  }
}
