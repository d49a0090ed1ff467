/**
 * The compatibility suite that proves kvd answers like etcd 3.4 ({@code --enable-v2=true}).
 *
 * <p>Real etcd (Debian {@code etcd-server}) is the oracle. Each test starts one etcd and one
 * candidate, runs the same thing against both and requires the same answers after normalisation:
 * <ul>
 *   <li>{@link dev.flotilla.kv.compat.V2SessionCompatTest}: the scripted HTTP session
 *       ({@link dev.flotilla.kv.compat.V2Session}, ~290 steps plus 1000 history-filling writes),
 *       compared answer by answer ({@link dev.flotilla.kv.compat.V2Normaliser},
 *       {@link dev.flotilla.kv.compat.SessionDiff});
 *   <li>{@link dev.flotilla.kv.compat.EtcdctlCompatTest}: real {@code etcdctl} (API v2) commands;
 *   <li>{@link dev.flotilla.kv.compat.PythonEtcdCompatTest}: python-etcd running
 *       {@code src/test/resources/compat/python_etcd_session.py}.
 * </ul>
 * Each runs twice: etcd against a second etcd (the control: it must show no difference, which is
 * what proves the normalisation sound) and etcd against kvd ({@code KvdTarget}, in-process through
 * {@code EmbeddedKv}). Without {@code etcd} on PATH everything skips; without {@code etcdctl} or
 * python-etcd the client tests skip; without {@code KvdTarget} the kvd cases skip.
 *
 * <p>Run: {@code mvn -q -pl kv-core -am test -Dtest='*Compat*' -Dsurefire.failIfNoSpecifiedTests=false}.
 * Reports, transcripts of etcd's raw answers and the servers' logs go to
 * {@code kv-core/target/compat-logs/}.
 */
package dev.flotilla.kv.compat;
