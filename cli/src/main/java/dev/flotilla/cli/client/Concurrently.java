package dev.flotilla.cli.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Requests for many units side by side: {@code fctl start web@{1..300}} sends its 300 creations
 * over {@link NettyFleetHttp#MAX_CONNECTIONS} connections instead of one after another. Every
 * request runs to its end even when another failed; the caller learns, in the order of the items,
 * which failed and with what, so it can report what was done and then the first failure.
 */
public final class Concurrently {
  private Concurrently() {}

  /** Runs {@code request} for each item; the failure of each (null: it succeeded), in item order. */
  public static <T> List<RuntimeException> attempt(List<T> items, Consumer<? super T> request) {
    List<RuntimeException> failures = new ArrayList<>(items.size());
    if (items.size() <= 1) {
      for (T item : items) {
        failures.add(attemptOne(item, request));
      }
      return failures;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(items.size(), NettyFleetHttp.MAX_CONNECTIONS), r -> {
      Thread t = new Thread(r, "fctl-request");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<RuntimeException>> futures = new ArrayList<>(items.size());
      for (T item : items) {
        futures.add(pool.submit(() -> attemptOne(item, request)));
      }
      for (Future<RuntimeException> f : futures) {
        failures.add(f.get());
      }
      return failures;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnreachableException("interrupted while waiting for fleetd", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause()); // attemptOne catches what a request throws
    } finally {
      pool.shutdownNow();
    }
  }

  /** Throws the first failure of {@link #attempt}'s answer, if any. */
  public static void throwFirst(List<RuntimeException> failures) {
    for (RuntimeException e : failures) {
      if (e != null) {
        throw e;
      }
    }
  }

  private static <T> RuntimeException attemptOne(T item, Consumer<? super T> request) {
    try {
      request.accept(item);
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }
}
