package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.LogView;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.ReadState;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safety properties checked after every simulated event (and at the points where they can
 * change: persist, apply, read, election):
 *
 * <ul>
 *   <li>at most one leader per term;</li>
 *   <li>a member's commit index never decreases (in memory within a life, on disk ever);</li>
 *   <li>committed entries are identical everywhere: once any member's disk says index i is
 *       committed, every member's log and disk agree on entry i up to their own commit index, and
 *       a new leader holds every committed entry (leader completeness);</li>
 *   <li>applied sequences are prefixes of one another: every member applies indexes in order, each
 *       equal to the committed entry, reaching the same state hash;</li>
 *   <li>a ReadIndex answer is at least the highest index applied anywhere when the read was asked;</li>
 *   <li>membership: consecutive committed configurations have overlapping majorities (never two
 *       disjoint majorities), a leader never has more than one uncommitted conf change in its log,
 *       and a member whose latest conf change is committed uses the same configuration as the
 *       committed log defines at that index;</li>
 *   <li>a member id removed by a committed conf change (e.g. a member whose disk was wiped) never
 *       appears in a later committed configuration; members join and leave at any time, each
 *       starting from an empty disk and applying from index 1 or from a leader's snapshot.</li>
 * </ul>
 */
public final class InvariantChecker {

  private final Map<Long, Long> leaderOfTerm = new HashMap<>();
  /** committed.get(i) is the committed entry at index i (null: not known yet). */
  private final ArrayList<Entry> committed = new ArrayList<>();
  private final ArrayList<Long> stateHash = new ArrayList<>();
  /** index of a committed conf change → configuration after it. */
  private final TreeMap<Long, ConfState> configs = new TreeMap<>();
  private ConfState lastConfig = ConfState.EMPTY;
  private final java.util.Set<Long> everMember = new java.util.HashSet<>();
  /** Ids a committed conf change took out of the membership: they must never come back. */
  private final java.util.Set<Long> removed = new java.util.HashSet<>();
  private long configsUpTo;
  private final Map<Long, Track> tracks = new HashMap<>();
  private final Map<String, Long> readsAsked = new HashMap<>();
  private long maxApplied;
  private long reads;
  private long elections;

  /** What the checker remembers per member. */
  private static final class Track {
    int incarnation = -1;
    long commit;
    long durableCommit;
    long recordedUpTo;
    Role role;
    long roleTerm;
    long checkedLast = -1;
  }

  public InvariantChecker() {
    committed.add(null);
    stateHash.add(0L);
  }

  private Track track(SimNode n) {
    return tracks.computeIfAbsent(n.id, k -> new Track());
  }

  /** Entries known committed, by index (index 0 unused). */
  public List<Entry> committedLog() {
    return committed;
  }

  public long maxCommittedIndex() {
    return committed.size() - 1;
  }

  public long maxApplied() {
    return maxApplied;
  }

  public long readsChecked() {
    return reads;
  }

  public long elections() {
    return elections;
  }

  /** Whether {@code id} was in some committed configuration. */
  public boolean wasEverMember(long id) {
    return everMember.contains(id);
  }

  /** The configuration the committed log defines at {@code index}. */
  public ConfState configAt(long index) {
    Map.Entry<Long, ConfState> e = configs.floorEntry(index);
    return e == null ? ConfState.EMPTY : e.getValue();
  }

  // ---- hooks called by SimCluster -------------------------------------------------------------

  /**
   * Forgets what was known of member {@code id}'s own disk and memory (its durable commit, role):
   * used when a new, empty disk appears under that id, so only cluster-wide invariants apply.
   */
  void forgetMember(long id) {
    tracks.remove(id);
  }

  /** Whether a committed conf change removed {@code id}. */
  public boolean wasRemoved(long id) {
    return removed.contains(id);
  }

  void onStart(SimNode n) {
    Track t = track(n);
    t.incarnation = n.incarnation;
    t.commit = n.raft.log().committed();
    t.role = null;
    t.checkedLast = -1;
    if (t.commit < t.durableCommit) {
      fail("member " + n.id + " restarted with commit " + t.commit + " below its durable commit " + t.durableCommit);
    }
  }

  void onPersisted(SimNode n) {
    Track t = track(n);
    long dc = n.disk.hardState().commit();
    if (dc < t.durableCommit) {
      fail("member " + n.id + " durable commit went back from " + t.durableCommit + " to " + dc);
    }
    t.durableCommit = dc;
    if (dc > n.disk.lastIndex()) {
      fail("member " + n.id + " persisted commit " + dc + " past its last index on disk " + n.disk.lastIndex());
    }
    long from = Math.max(t.recordedUpTo + 1, n.disk.firstIndex());
    if (from <= dc) {
      for (Entry e : n.disk.entries(from, dc + 1, Long.MAX_VALUE)) {
        record(e, n.id);
      }
    }
    t.recordedUpTo = Math.max(t.recordedUpTo, dc);
  }

  private void record(Entry e, long who) {
    int i = (int) e.index();
    while (committed.size() <= i) {
      committed.add(null);
    }
    Entry known = committed.get(i);
    if (known == null) {
      committed.set(i, e);
      advanceConfigs();
    } else if (!known.equals(e)) {
      fail("committed entry " + i + " changed: member " + who + " committed " + e + " but " + known + " was committed before");
    }
  }

  private void advanceConfigs() {
    while (configsUpTo + 1 < committed.size() && committed.get((int) configsUpTo + 1) != null) {
      Entry e = committed.get((int) ++configsUpTo);
      if (e.isConfChange()) {
        ConfState next = lastConfig.apply(ConfChange.decode(e.data()));
        if (!lastConfig.voters().isEmpty() && disjointMajoritiesPossible(lastConfig, next)) {
          fail("committed conf change at " + e.index() + " goes from " + lastConfig + " to " + next
              + ": the two have disjoint majorities");
        }
        for (long id : lastConfig.voters()) {
          if (!next.isMember(id)) {
            removed.add(id);
          }
        }
        for (long id : lastConfig.learners()) {
          if (!next.isMember(id)) {
            removed.add(id);
          }
        }
        for (long id : removed) {
          if (next.isMember(id)) {
            fail("committed conf change at " + e.index() + " brings back member id " + id
                + ", which an earlier committed change removed (a removed or wiped id must never rejoin)");
          }
        }
        configs.put(e.index(), next);
        lastConfig = next;
        everMember.addAll(next.voters());
        everMember.addAll(next.learners());
      }
    }
  }

  /** Whether some majority of {@code a}'s voters and some majority of {@code b}'s share no member. */
  static boolean disjointMajoritiesPossible(ConfState a, ConfState b) {
    int onlyA = 0;
    int both = 0;
    for (long id : a.voters()) {
      if (b.voters().contains(id)) {
        both++;
      } else {
        onlyA++;
      }
    }
    int onlyB = b.voters().size() - both;
    int qa = a.voters().size() / 2 + 1;
    int qb = b.voters().size() / 2 + 1;
    return Math.max(0, qa - onlyA) + Math.max(0, qb - onlyB) <= both;
  }

  void onApply(SimNode n, Entry e, long appliedBefore) {
    if (e.index() != appliedBefore + 1) {
      fail("member " + n.id + " applied " + e.index() + " right after " + appliedBefore);
    }
    Entry known = e.index() < committed.size() ? committed.get((int) e.index()) : null;
    if (known == null) {
      fail("member " + n.id + " applied " + e + " which no disk records as committed");
    }
    if (!known.equals(e)) {
      fail("member " + n.id + " applied " + e + " but the committed entry is " + known);
    }
    checkStateHash(n.id, e.index(), n.app.hash());
    maxApplied = Math.max(maxApplied, e.index());
  }

  private void checkStateHash(long who, long index, long hash) {
    int i = (int) index;
    while (stateHash.size() <= i) {
      stateHash.add(null);
    }
    Long known = stateHash.get(i);
    if (known == null) {
      stateHash.set(i, hash);
    } else if (known != hash) {
      fail("member " + who + " reached state " + Long.toHexString(hash) + " at index " + index + ", others "
          + Long.toHexString(known));
    }
  }

  void onSnapshotApplied(SimNode n, Snapshot s) {
    Entry known = s.index() < committed.size() ? committed.get((int) s.index()) : null;
    if (known != null && known.term() != s.term()) {
      fail("member " + n.id + " installed snapshot " + s + " but committed entry " + s.index() + " is " + known);
    }
    checkStateHash(n.id, s.index(), n.app.hash());
    if (!s.confState().equals(configAt(s.index())) && s.index() <= configsUpTo) {
      fail("snapshot " + s + " on member " + n.id + " records membership " + s.confState() + " but the log defines "
          + configAt(s.index()));
    }
  }

  void onReadAsked(byte[] context) {
    readsAsked.put(new String(context, StandardCharsets.ISO_8859_1), maxApplied);
  }

  void onReadState(SimNode n, ReadState rs) {
    Long floor = readsAsked.remove(new String(rs.context(), StandardCharsets.ISO_8859_1));
    if (floor == null) {
      return; // a duplicate answer
    }
    reads++;
    if (rs.index() < floor) {
      fail("stale read on member " + n.id + ": read index " + rs.index() + " but index " + floor
          + " was already applied when the read was asked");
    }
  }

  /** After a leader accepted a conf change at {@code index}: no other uncommitted one may precede it. */
  void onConfChangeProposed(SimNode leader, long index) {
    LogView log = leader.raft.log();
    for (long i = log.committed() + 1; i < index; i++) {
      Entry e = log.entry(i);
      if (e != null && e.isConfChange()) {
        fail("leader " + leader.id + " accepted conf change at " + index + " with another uncommitted one at " + i);
      }
    }
  }

  // ---- after every event ------------------------------------------------------------------------

  void afterEvent(Iterable<SimNode> nodes) {
    for (SimNode n : nodes) {
      RawNode r = n.raft;
      if (r == null) {
        continue;
      }
      Track t = track(n);
      LogView log = r.log();
      Role role = r.role();
      long term = r.term();
      if (role == Role.LEADER) {
        Long prev = leaderOfTerm.putIfAbsent(term, n.id);
        if (prev != null && prev != n.id) {
          fail("two leaders in term " + term + ": members " + prev + " and " + n.id);
        }
        if (t.role != Role.LEADER || t.roleTerm != term) {
          elections++;
          checkLeaderCompleteness(n);
        }
        if (log.lastIndex() != t.checkedLast) {
          t.checkedLast = log.lastIndex();
          int pending = 0;
          for (long i = log.committed() + 1; i <= log.lastIndex(); i++) {
            Entry e = log.entry(i);
            if (e != null && e.isConfChange() && ++pending > 1) {
              fail("leader " + n.id + " has two uncommitted conf changes in its log (second at " + i + ")");
            }
          }
        }
      }
      t.role = role;
      t.roleTerm = term;
      long commit = log.committed();
      if (commit < t.commit) {
        fail("member " + n.id + " commit index went back from " + t.commit + " to " + commit);
      }
      t.commit = commit;
      if (commit > log.lastIndex()) {
        fail("member " + n.id + " commit " + commit + " is past its last index " + log.lastIndex());
      }
      if (commit > 0 && commit < committed.size()) {
        Entry known = committed.get((int) commit);
        long ours = log.term(commit);
        if (known != null && ours >= 0 && ours != known.term()) {
          fail("member " + n.id + " has term " + ours + " at its commit index " + commit + ", committed entry is " + known);
        }
      }
      long ci = r.confIndex();
      if (ci <= commit && ci <= configsUpTo && ci > 0) {
        ConfState expected = configAt(ci);
        if (!expected.equals(r.confState())) {
          fail("member " + n.id + " uses membership " + r.confState() + " from index " + ci
              + " but the committed log defines " + expected + " there");
        }
      }
    }
  }

  /** Test hook: pretend {@code id} was seen leading {@code term}. */
  void recordLeaderForTest(long term, long id) {
    Long prev = leaderOfTerm.putIfAbsent(term, id);
    if (prev != null && prev != id) {
      fail("two leaders in term " + term + ": members " + prev + " and " + id);
    }
  }

  private void checkLeaderCompleteness(SimNode n) {
    LogView log = n.raft.log();
    for (long i = Math.max(1, log.firstIndex()); i < committed.size(); i++) {
      Entry known = committed.get((int) i);
      if (known == null) {
        continue;
      }
      Entry ours = log.entry(i);
      if (ours == null) {
        fail("new leader " + n.id + " (term " + n.raft.term() + ") lacks committed entry " + known
            + " (its log ends at " + log.lastIndex() + ")");
      }
      if (!ours.equals(known)) {
        fail("new leader " + n.id + " (term " + n.raft.term() + ") has " + ours + " where " + known + " was committed");
      }
    }
  }

  /** Compares every member's committed log prefix, in memory and on disk, with the committed entries. */
  void fullCheck(Iterable<SimNode> nodes) {
    for (SimNode n : nodes) {
      if (n.raft != null) {
        LogView log = n.raft.log();
        long hi = Math.min(log.committed(), committed.size() - 1);
        for (long i = log.firstIndex(); i <= hi; i++) {
          compare(n.id, "log", i, log.entry(i));
        }
      }
      long hi = Math.min(n.disk.hardState().commit(), committed.size() - 1);
      if (n.disk.firstIndex() <= hi) {
        for (Entry e : n.disk.entries(n.disk.firstIndex(), hi + 1, Long.MAX_VALUE)) {
          compare(n.id, "disk", e.index(), e);
        }
      }
    }
  }

  private void compare(long who, String where, long i, Entry ours) {
    Entry known = committed.get((int) i);
    if (known != null && !known.equals(ours)) {
      fail("member " + who + " " + where + " holds " + ours + " at committed index " + i + " where " + known
          + " was committed");
    }
  }

  private static void fail(String message) {
    throw new InvariantViolation(message);
  }
}
