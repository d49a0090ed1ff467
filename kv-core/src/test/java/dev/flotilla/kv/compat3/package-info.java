/**
 * The v3 compatibility suite: kvd's etcd v3 API (gRPC and the JSON gateway) against a real etcd
 * 3.4.23 as the oracle, the same thing done to both at once and the answers compared after
 * normalisation (revisions as offsets from the session's start, ids by order, URLs, sizes,
 * timings and raft counters taken out).
 * <ul>
 *   <li>{@link dev.flotilla.kv.compat3.EtcdctlCompat3Test}: real {@code ETCDCTL_API=3 etcdctl} running
 *       {@code src/test/resources/compat3/etcdctl-v3.script} ({@link dev.flotilla.kv.compat3.EtcdctlScript});
 *       also etcd against a second etcd, the control that proves the normalisation sound;
 *   <li>{@link dev.flotilla.kv.compat3.JetcdCompat3Test}: jetcd 0.8.6 ({@link dev.flotilla.kv.compat3.JetcdSession});
 *   <li>{@link dev.flotilla.kv.compat3.PythonCompat3Test}: Debian's python3-etcd3 and python3-etcd3gw running
 *       {@code compat3/etcd3_session.py} and {@code compat3/etcd3gw_session.py} with {@code /usr/bin/python3};
 *   <li>{@link dev.flotilla.kv.compat3.GrpcCompat3Test}: the raw gRPC API through the project's own stubs
 *       ({@link dev.flotilla.kv.compat3.GrpcSession}): watch control answers, request checks, nested txns.
 * </ul>
 * Differences kvd has on purpose are listed with their reasons in {@code compat3/etcdctl-allow.txt}
 * and {@code compat3/python-allow.txt}. A missing tool skips a test with what to install, or fails it
 * when {@code FLOTILLA_REQUIRE_TOOLS=1} (CI). Transcripts and etcd's logs go to
 * {@code kv-core/target/compat3-logs/}.
 *
 * <p>Run: {@code mvn -q -o -pl kv-core -am test -Dtest='*Compat3*' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
package dev.flotilla.kv.compat3;
