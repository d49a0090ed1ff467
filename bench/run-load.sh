#!/usr/bin/env bash
# Launches the v2 load generator (dev.flotilla.bench.V2Load); pass --help for its options.
# Build first with: (cd "$(git rev-parse --show-toplevel)" && mvn -q -DskipTests package)
# BENCH_MAIN picks another main class of this module (e.g. dev.flotilla.bench.ResultsTable);
# BENCH_JAVA_OPTS replaces the JVM options below.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$BENCH/target/bench.jar"
if [[ ! -f "$JAR" ]]; then
  echo "run-load.sh: $JAR is missing; build with: (cd $(dirname "$BENCH") && mvn -q -DskipTests package)" >&2
  exit 2
fi
# Small fixed heap and the parallel collector: the generator allocates little and should not
# steal cycles from the server on a 2-core machine; leak detection off for the same reason.
JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:ParallelGCThreads=1 -Dio.netty.leakDetection.level=disabled}
# shellcheck disable=SC2086  # JAVA_OPTS is a list of words
exec java $JAVA_OPTS -cp "$JAR:$BENCH/target/lib/*" "${BENCH_MAIN:-dev.flotilla.bench.V2Load}" "$@"
