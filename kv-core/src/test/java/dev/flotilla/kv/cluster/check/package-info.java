/**
 * A linearizability checker for histories of etcd v2 key operations recorded by chaos tests.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * History history = new History();                          // thread-safe; System.nanoTime
 * // in each client thread, around each request:
 * History.Invocation inv = history.invokeWrite(client, "/k3", "v17");   // takes the call time
 * ... send PUT /v2/keys/k3 value=v17 ...
 * inv.ok();            // 2xx: takes the return time
 * inv.unknown();       // timeout, reset, 5xx: may or may not have happened (return = infinity)
 * inv.fail();          // CAS compare failed (101), create found the key (105), delete found none (100)
 * invRead.read(value); // a GET's answer; read(null) when the key was not found
 * inv.discard();       // surely never happened (not sent): left out
 * // after the run:
 * CheckResult r = new LinearizabilityChecker().check(history.ops(), RegisterModel.casRegister());
 * if (!r.isLinearizable()) history.save(dir.resolve("history.jsonl"));
 * r.assertLinearizable();    // AssertionError carrying r.report()
 * // later, from the saved file:
 * new LinearizabilityChecker().check(History.load(file), RegisterModel.casRegister()).report();
 * }</pre>
 * An invocation never completed (the client was stuck when the run ended) counts as unknown.
 * Write unique values (client id and counter): a read then says which write it saw, the search
 * stays small, and unknown writes nobody read can be left out (see
 * {@link dev.flotilla.kv.cluster.check.Model#unobservable}). Plain v2 GETs are served by any
 * member from its own state; only {@code quorum=true} reads are meant to be linearizable, so record
 * only those, or expect (correct) stale-read violations.
 *
 * <h2>Algorithm</h2>
 * Linearizability is local (Herlihy and Wing), so each key is checked alone
 * ({@link dev.flotilla.kv.cluster.check.LinearizabilityChecker}) against a sequential model of one
 * key ({@link dev.flotilla.kv.cluster.check.RegisterModel}: a register, or a register with
 * compare-and-swap, create-if-absent and delete). The search ({@code KeySearch}) is Wing and
 * Gong's, with Lowe's memoisation of (set of linearized ops as a bitset, model state), as in
 * Porcupine: depth-first, it picks an op that may go next (called before the earliest pending
 * return) and fits the current state; when none does, it backtracks. An op of unknown outcome
 * returns at infinity, so it can be linearized anywhere after its call, once at most, or never.
 * Reads without an answer are dropped. A read-only op that fits is taken without trying others in
 * its place, which keeps overlapping reads cheap.
 *
 * <h2>Results</h2>
 * {@link dev.flotilla.kv.cluster.check.CheckResult}: LINEARIZABLE, NOT_LINEARIZABLE (with, per bad
 * key, the longest linearizable prefix found, the state after it and the op that could not be
 * placed) or UNKNOWN, when a key ran out of its step budget or the whole check out of time; UNKNOWN
 * is never reported as linearizable. The cost grows with how many state-changing ops on one key
 * overlap: 10,000 ops over 50 keys from 16 clients take tens of milliseconds, while ~20 writers
 * overlapping on one key with many lost answers can exhaust the budget. Spread clients over keys.
 */
package dev.flotilla.kv.cluster.check;
