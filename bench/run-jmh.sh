#!/usr/bin/env bash
# JMH micro benchmarks of bench/. Their short default settings are in their annotations
# (RaftCommitBenchmark: 1 fork, 3 x 5 s warm-up, 3 x 5 s measured); JMH options given here override them.
#
#   bench/run-jmh.sh [JMH options] [benchmark regex]     e.g. bench/run-jmh.sh RaftCommitBenchmark
#   bench/run-jmh.sh -p inFlight=256 RaftCommitBenchmark.commit
#   bench/run-jmh.sh -i 5 -r 10s -rf json -rff /tmp/jmh.json RaftCommitBenchmark
#   bench/run-jmh.sh -l                                   (list the benchmarks)
#
# The script sets -jvmArgsAppend itself (logging, BENCH_DIR): do not pass it again.
# Files the benchmarks write (WALs, the fsync file) go under BENCH_DIR (default: java.io.tmpdir).
# Build first: (cd "$(git rev-parse --show-toplevel)" && mvn -q -o -DskipTests package -pl bench -am)
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$BENCH/target/bench.jar"
if [[ ! -f "$JAR" ]]; then
  echo "run-jmh.sh: $JAR not found; build it: (cd $(dirname "$BENCH") && mvn -q -o -DskipTests package -pl bench -am)" >&2
  exit 2
fi
# library logging (gRPC, Netty) at WARN on stderr, in the forked JVMs too
props="-Dlogback.configurationFile=dev/flotilla/bench/logback-v2load.xml"
if [[ -n "${BENCH_DIR:-}" ]]; then
  props="$props -Dbench.dir=$BENCH_DIR"
fi
exec java $props -cp "$JAR:$BENCH/target/lib/*" org.openjdk.jmh.Main \
  -jvmArgsAppend "$props" "$@"
