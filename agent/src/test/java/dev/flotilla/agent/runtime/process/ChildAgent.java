package dev.flotilla.agent.runtime.process;

import dev.flotilla.agent.runtime.UnitStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A stand-in for fleetd in a JVM of its own: opens a ProcessRuntime on {@code args[0]}, closes it
 * from a shutdown hook as the agent does, starts unit {@code args[1]} from the file {@code args[2]},
 * prints {@code READY <main pid>} once it runs, then waits to be killed.
 */
public final class ChildAgent {

  private ChildAgent() {}

  public static void main(String[] args) throws Exception {
    ProcessRuntime rt = new ProcessRuntime(Path.of(args[0]));
    Runtime.getRuntime().addShutdownHook(new Thread(rt::close, "close-runtime"));
    String unit = args[1];
    rt.load(Map.of(unit, Files.readString(Path.of(args[2]))));
    rt.start(List.of(unit));
    long deadline = System.nanoTime() + 10_000_000_000L;
    UnitStatus s = rt.states(List.of(unit)).get(unit);
    while (!s.subState().equals("running")) {
      if (System.nanoTime() > deadline) {
        System.out.println("FAILED " + s);
        System.exit(1);
      }
      Thread.sleep(10);
      s = rt.states(List.of(unit)).get(unit);
    }
    System.out.println("READY " + s.mainPid());
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
