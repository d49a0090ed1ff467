package dev.flotilla.agent.runtime.process;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The processes of one service activation, without cgroups: every command runs under
 * {@code setsid}, so it leads a session (and process group) of its own whose ID is its PID. The
 * service's processes are the members of those sessions, plus their descendants that left them
 * (a {@code setsid} in a script), plus whatever an earlier sweep found and still runs with the
 * same start time (a descendant whose parent has since died is no longer linked to the tree).
 *
 * <p>A sweep signals each member by PID rather than the group with one {@code kill(-pgid)}: that
 * covers the sessions and the strays alike, and sweeps repeat until nothing is left, so a process
 * forked while signals went out is found by the next one.
 *
 * <p>Without {@code /proc} (not Linux) only the session leaders and their descendants are found.
 */
final class UnitProcesses {

  private final long self = ProcessHandle.current().pid();
  /** Session IDs (the PIDs of the commands launched through setsid) of this activation. */
  private final Set<Long> sessions = new LinkedHashSet<>();
  /** Members found by earlier sweeps: PID → start time in clock ticks. */
  private final Map<Long, Long> tracked = new HashMap<>();
  /** Signal last sent to each member, so that a sweep repeats no SIGTERM (some programs read a second one as "hurry"). */
  private final Map<Long, Integer> signalled = new HashMap<>();

  void addSession(long leader) {
    sessions.add(leader);
  }

  /**
   * Forgets a session once nothing runs in it: its ID may then be reused by any new session on the
   * host, which must not be taken for ours at the next stop.
   */
  void pruneSession(long leader) {
    if (members(Set.of(leader), false).isEmpty()) {
      sessions.remove(leader);
    }
  }

  /** The live (non-zombie) processes of this activation now. */
  List<Long> members() {
    return members(sessions, true);
  }

  /**
   * Finds the members and sends {@code signal} (15 or 9) to each not yet sent it; returns how many
   * members were alive.
   */
  int sweep(int signal) {
    List<Long> members = members(sessions, true);
    for (long pid : members) {
      Integer before = signalled.get(pid);
      if (before != null && (before == signal || before == 9)) {
        continue; // sent already, or SIGKILL, which nothing follows
      }
      signalled.put(pid, signal);
      ProcessHandle.of(pid).ifPresent(h -> {
        if (signal == 9) {
          h.destroyForcibly();
        } else {
          h.destroy();
        }
      });
    }
    return members.size();
  }

  /** A new activation starts with nothing known. */
  void clear() {
    sessions.clear();
    tracked.clear();
    signalled.clear();
  }

  /** Members of {@code ofSessions}; with {@code track}, also of earlier sweeps, and remembered for the next. */
  private List<Long> members(Set<Long> ofSessions, boolean track) {
    if (!ProcTable.available()) {
      return membersWithoutProc(ofSessions);
    }
    Map<Long, ProcTable.Entry> table = ProcTable.scan();
    Set<Long> found = new LinkedHashSet<>();
    for (ProcTable.Entry e : table.values()) {
      if (!e.zombie() && ofSessions.contains(e.session())) {
        found.add(e.pid());
      }
    }
    if (track) {
      tracked.forEach((pid, ticks) -> {
        ProcTable.Entry e = table.get(pid);
        if (e != null && !e.zombie() && e.startTicks() == ticks) {
          found.add(pid);
        }
      });
    }
    Map<Long, List<Long>> children = new HashMap<>();
    for (ProcTable.Entry e : table.values()) {
      children.computeIfAbsent(e.ppid(), k -> new ArrayList<>()).add(e.pid());
    }
    Deque<Long> todo = new ArrayDeque<>(found);
    while (!todo.isEmpty()) {
      for (long child : children.getOrDefault(todo.pop(), List.of())) {
        ProcTable.Entry e = table.get(child);
        if (e != null && !e.zombie() && found.add(child)) {
          todo.push(child);
        }
      }
    }
    found.remove(self);
    found.remove(1L);
    if (track) {
      tracked.clear();
      for (long pid : found) {
        tracked.put(pid, table.get(pid).startTicks());
      }
    }
    return new ArrayList<>(found);
  }

  private List<Long> membersWithoutProc(Set<Long> ofSessions) {
    Set<Long> found = new HashSet<>();
    for (long sid : ofSessions) {
      ProcessHandle.of(sid).filter(ProcessHandle::isAlive).ifPresent(h -> {
        found.add(h.pid());
        h.descendants().forEach(d -> found.add(d.pid()));
      });
    }
    found.remove(self);
    return new ArrayList<>(found);
  }
}
