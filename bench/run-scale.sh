#!/usr/bin/env bash
# The fleet engine at scale (dev.flotilla.bench.fleet.FleetScale): 1,000 simulated machines,
# 100,000 units submitted and started, one real engine over a real store; pass --help for options.
# Build first with: (cd "$(git rev-parse --show-toplevel)" && mvn -q -o -DskipTests package -pl scheduler,bench)
#   bench/run-scale.sh                                 # kvd member in this JVM (fleetd's embedded store)
#   bench/run-scale.sh --machines 1000 --units 10000 --kill 10
#   bench/run-scale.sh --kvd                           # starts bin/kvd on free ports and uses it
#   bench/run-scale.sh --endpoints http://127.0.0.1:2379   # an empty kvd or etcd already running
# BENCH_JAVA_OPTS replaces the JVM options below.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
JAR="$BENCH/target/bench.jar"
if [[ ! -f "$JAR" ]]; then
  echo "run-scale.sh: $JAR is missing; build with: (cd $ROOT && mvn -q -o -DskipTests package -pl scheduler,bench)" >&2
  exit 2
fi
JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms2g -Xmx2g -XX:+UseParallelGC}
ARGS=()
KVD_PID=""
for a in "$@"; do
  if [[ "$a" == "--kvd" ]]; then
    TMP="$(mktemp -d -t flotilla-scale-kvd-XXXXXX)"
    # shellcheck disable=SC2317  # runs on exit
    cleanup() { if [[ -n "$KVD_PID" ]]; then kill "$KVD_PID" 2>/dev/null || true; wait "$KVD_PID" 2>/dev/null || true; fi; rm -rf "$TMP"; }
    trap cleanup EXIT
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    CPORT=$(free_port); PPORT=$(free_port)
    "${KVD:-$ROOT/bin/kvd}" --name scale --data-dir "$TMP/data" \
      --listen-client-urls "http://127.0.0.1:$CPORT" --advertise-client-urls "http://127.0.0.1:$CPORT" \
      --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
      --initial-cluster "scale=http://127.0.0.1:$PPORT" >"$TMP/kvd.log" 2>&1 &
    KVD_PID=$!
    for _ in $(seq 1 300); do
      curl -fsS "http://127.0.0.1:$CPORT/health" >/dev/null 2>&1 && break
      kill -0 "$KVD_PID" 2>/dev/null || { echo "run-scale.sh: kvd exited; its log:" >&2; cat "$TMP/kvd.log" >&2; exit 1; }
      sleep 0.1
    done
    ARGS+=(--endpoints "http://127.0.0.1:$CPORT")
  else
    ARGS+=("$a")
  fi
done
# shellcheck disable=SC2086  # JAVA_OPTS is a list of words
java $JAVA_OPTS -cp "$JAR:$BENCH/target/lib/*" dev.flotilla.bench.fleet.FleetScale "${ARGS[@]}"
