#!/usr/bin/env bash
# bench/front-only.sh: `ETCDCTL_API=3 etcdctl check perf` against FrontOnlyKvServer, an etcd v3 KV
# endpoint with no store behind it (every Put answered at once on the gRPC event loop that read
# it), set up as kvd's gRPC server is. What it reaches is what etcdctl and grpc-java's front
# alone allow on this machine: the ceiling for any store behind that front (issue #5).
#
# One process listens on 127.0.0.N1-N3:2379 (as check-perf.sh's three members would), with
# --loops event loops (default 2: one per core here, as a member alone on this machine gets).
# Prints check perf's result lines and the CPU of the server and of etcdctl from 5 s to 55 s.
#
# Usage (after `mvn -q -DskipTests package`; needs etcdctl from Debian):
#   bench/front-only.sh [--load s|m|l|xl] [--loops N] [--net N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOAD=l LOOPS=2 NET=9
while (($#)); do
  case "$1" in
    --load) LOAD=$2; shift 2 ;;
    --loops) LOOPS=$2; shift 2 ;;
    --net) NET=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "front-only.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "front-only.sh: $*" >&2; exit 1; }
command -v etcdctl > /dev/null || die "needs 'etcdctl' on PATH"
[[ -f "$ROOT/bench/target/bench.jar" ]] || die "build first: (cd $ROOT && mvn -q -DskipTests package)"
# shellcheck source=bench/measure.sh
source "$ROOT/bench/measure.sh"
LISTEN="127.0.0.${NET}1:2379,127.0.0.${NET}2:2379,127.0.0.${NET}3:2379"
ENDPOINTS="http://${LISTEN//,/,http://}"
OUT=$(mktemp /tmp/flotilla-front-only.XXXXXX)
BENCH_MAIN=dev.flotilla.bench.FrontOnlyKvServer \
  BENCH_JAVA_OPTS="-Dio.grpc.netty.shaded.io.netty.leakDetection.level=disabled" \
  "$ROOT/bench/run-load.sh" --listen "$LISTEN" --loops "$LOOPS" > "$OUT.server" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2> /dev/null || true; wait "$SERVER" 2> /dev/null || true; rm -f "$OUT" "$OUT.server"' EXIT
for _ in $(seq 1 100); do grep -q serving "$OUT.server" && break; sleep 0.1; done
grep -q serving "$OUT.server" || die "the server did not start: $(cat "$OUT.server")"
# the JIT's first compiles on the s load, as check-perf.sh --warmup does
ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" check perf --load=s > /dev/null 2>&1
echo "== front only ($LOOPS loops): etcdctl check perf --load=$LOAD against $ENDPOINTS ($(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" check perf --load="$LOAD" > "$OUT" 2>&1 &
PERF=$!
sleep 5
t0=$(date +%s.%N) s0=$(proc_ticks "$SERVER") c0=$(proc_ticks "$PERF")
sleep 50
t1=$(date +%s.%N) s1=$(proc_ticks "$SERVER") c1=$(proc_ticks "$PERF")
wait "$PERF" || true
tr '\r' '\n' < "$OUT" | sed -E 's/.*[0-9]+m[0-9]+s//' | grep -E '^(PASS|FAIL|Slowest|Throughput|Stddev|Error)' || true
awk -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "cpu cores during the load (5-55 s): server %.2f, etcdctl %.2f\n", s / hz / t, c / hz / t }'
