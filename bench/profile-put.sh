#!/usr/bin/env bash
# bench/profile-put.sh: where a 3-member kvd cluster's CPU goes under the v2 PUT load (issue #4),
# or under the GET or quorum GET load (--workload get|qget).
#
# Starts three kvd members (fresh data dirs, free 127.0.0.1 ports), runs V2Load's put (get, qget)
# workload against the leader, and reports: req/s, p99 and the server CPU per request (V2Load's own window),
# then each member's busiest threads over the measured window (from /proc/<pid>/task/*/stat and
# status, grouped by thread name with digits folded: CPU, voluntary context switches (wake-ups
# after blocking) and involuntary ones (preempted while runnable), per request). With --profile, async-profiler (itimer, 1 ms,
# collapsed stacks, per thread) is attached to every member (the JDK attach API) for the
# measured window only, and the files stay in the work directory.
#
# Usage (after `mvn -q -DskipTests package`):
#   bench/profile-put.sh [--members 3] [--duration 10] [--warmup 30] [--connections 64]
#                        [--workload put|get|qget] [--profile] [--ap /tmp/ap/linux-x64/libasyncProfiler.so] [--keep]
# Env: FLOTILLA_JAVA_OPTS is passed to the members as bin/kvd takes it; KVD picks another launcher
# (e.g. a baseline build's bin/kvd, for an A/B pair run back to back); PROFILE_EVENT, what --profile
# samples (default event=itimer,interval=1ms; e.g. event=cpu,interval=200us for more samples, or alloc=256k).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH=$ROOT/bench
MEMBERS=3 DURATION=10 WARMUP=30 CONNECTIONS=64 PROFILE=0 KEEP=0 WORKLOAD=put
AP=/tmp/ap/linux-x64/libasyncProfiler.so
while (($#)); do
  case "$1" in
    --members) MEMBERS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --workload) WORKLOAD=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --ap) AP=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "profile-put.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$WORKLOAD" =~ ^(put|get|qget)$ ]] || { echo "profile-put.sh: --workload must be put, get or qget, not '$WORKLOAD'" >&2; exit 2; }
KVD=${KVD:-$ROOT/bin/kvd}
die() { echo "profile-put.sh: $*" >&2; exit 1; }
trap 'echo "profile-put.sh: failed at line $LINENO" >&2' ERR
[[ -f "$ROOT/bench/target/bench.jar" ]] || die "build first: (cd $ROOT && mvn -q -DskipTests package)"
((PROFILE == 0)) || [[ -f "$AP" ]] || die "async-profiler library $AP not found (--ap)"
WORK=$(mktemp -d /tmp/flotilla-profile-put.XXXXXX)
HZ=$(getconf CLK_TCK)
# shellcheck source=bench/measure.sh
source "$BENCH/measure.sh"

if ((PROFILE)); then
  attach_helper "$WORK" || die "cannot compile the attach helper"
fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2> /dev/null || true
  done
  rm -rf "$WORK/data"
  ((KEEP || PROFILE)) && echo "work directory: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cluster="" clients=() peers=()
for ((i = 1; i <= MEMBERS; i++)); do
  free_port; clients[i]=$FREE_PORT
  free_port; peers[i]=$FREE_PORT
  cluster+="${cluster:+,}p$i=http://127.0.0.1:${peers[i]}"
done
for ((i = 1; i <= MEMBERS; i++)); do
  opts=${FLOTILLA_JAVA_OPTS:-}
  mkdir -p "$WORK/data/$i"
  FLOTILLA_JAVA_OPTS="$opts" "$KVD" --name "p$i" --data-dir "$WORK/data/$i" \
    --listen-client-urls "http://127.0.0.1:${clients[i]}" --advertise-client-urls "http://127.0.0.1:${clients[i]}" \
    --listen-peer-urls "http://127.0.0.1:${peers[i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peers[i]}" \
    --initial-cluster "$cluster" --initial-cluster-token profile-put > "$WORK/m$i.log" 2>&1 &
  PIDS+=($!)
done
leader=""
for _ in $(seq 300); do
  leader=$(curl -s --max-time 1 "http://127.0.0.1:${clients[1]}/v2/members/leader" | grep -o '"clientURLs":\["[^"]*' | cut -d'"' -f4 || true)
  [[ -n "$leader" ]] && break
  sleep 0.2
done
[[ -n "$leader" ]] || die "no leader within 60 s (logs in $WORK)"
lport=${leader##*:}
echo "members ($KVD${FLOTILLA_JAVA_OPTS:+, FLOTILLA_JAVA_OPTS=$FLOTILLA_JAVA_OPTS}): pids ${PIDS[*]}; leader $leader; load $(uptime | sed 's/.*load average: //')"

"$BENCH/run-load.sh" --url "$leader" --label kvd --server-pid "$(IFS=,; echo "${PIDS[*]}")" --workload "$WORKLOAD" \
  --connections "$CONNECTIONS" --duration "${DURATION}s" --warmup "${WARMUP}s" --keys 1000 --value-size 256 \
  > "$WORK/load.out" 2> "$WORK/load.err" &
load=$!
# one /metrics read of each member early in the warm-up: the reads around the window below would
# otherwise be the first, and their new header and task types deoptimized the leader's hot HTTP
# path (class_check traps, -XX:+LogCompilation) right at the window's start, so that C2 recompiled
# it inside the window; a member under Prometheus sees such reads all along anyway
early=$((WARMUP > 6 ? 5 : 1))
sleep "$early"
for ((i = 1; i <= MEMBERS; i++)); do curl -s --max-time 2 -o /dev/null "http://127.0.0.1:${clients[i]}/metrics" || true; done
sleep "$((WARMUP + 1 - early))" # the generator's JVM start-up is about a second
window_start=$(date -u +%T.%3N)
for ((i = 1; i <= MEMBERS; i++)); do thread_ticks "${PIDS[i-1]}" > "$WORK/t$i.before"; done
for ((i = 1; i <= MEMBERS; i++)); do curl -s --max-time 2 "http://127.0.0.1:${clients[i]}/metrics" | grep -E "^etcd_disk_wal_fsync_duration_seconds_(sum|count)" | sed "s/^/$i /"; done > "$WORK/metrics.before" || true
if ((PROFILE)); then # attached for the measured window only (start-up and JIT warm-up left out)
  java -cp "$WORK" Attach "$AP" "start,${PROFILE_EVENT:-event=itimer,interval=1ms},threads" "${PIDS[@]}"
fi
sleep "$DURATION"
if ((PROFILE)); then
  for ((i = 1; i <= MEMBERS; i++)); do
    java -cp "$WORK" Attach "$AP" "stop,file=$WORK/m$i.collapsed,collapsed" "${PIDS[i-1]}"
  done
fi
for ((i = 1; i <= MEMBERS; i++)); do thread_ticks "${PIDS[i-1]}" > "$WORK/t$i.after"; done
echo "measured window: $window_start - $(date -u +%T.%3N) UTC" # to place the members' own logs (e.g. -Xlog:jit+compilation) in it
for ((i = 1; i <= MEMBERS; i++)); do curl -s --max-time 2 "http://127.0.0.1:${clients[i]}/metrics" | grep -E "^etcd_disk_wal_fsync_duration_seconds_(sum|count)" | sed "s/^/$i /"; done > "$WORK/metrics.after" || true
wait "$load" || true
# the whole run's (warm-up included) snapshot encoding and JIT CPU: a 10 s window catches a snapshot
# or not by chance, and each one costs more as the history grows
for ((i = 1; i <= MEMBERS; i++)); do thread_ticks "${PIDS[i-1]}"; done > "$WORK/t.end"
awk -v hz="$HZ" '$3 ~ /^raft-snapshot/ { s += $2 } $3 ~ /Compiler/ { c += $2 }
  END { printf "since start, all members: snapshot encoding %.1f s CPU, JIT compilers %.1f s CPU\n", s / hz, c / hz }' "$WORK/t.end"
grep -h 'snapshot at' "$WORK"/m*.log | sed 's/.*raft node/  raft node/' || true
grep -m1 ' req/s ' "$WORK/load.out" || { cat "$WORK/load.err" >&2; die "the load generator failed"; }
json=$(grep '^{' "$WORK/load.out")
rps=$(grep -o '"rps":[0-9.]*' <<< "$json" | cut -d: -f2)
server=$(grep -o '"server":[0-9.]*' <<< "$json" | cut -d: -f2)
echo "server CPU per ${WORKLOAD^^}: $(awk -v s="$server" -v r="$rps" 'BEGIN { printf "%.0f", s * 1e6 / r }') us"
# per member over the window: WAL fsyncs and their mean duration (from /metrics)
awk 'NR == FNR { b[$1 " " $2] = $3; next } { d[$1 " " $2] = $3 - b[$1 " " $2]; m[$1] = 1 }
  END { for (i in m) { n = d[i " etcd_disk_wal_fsync_duration_seconds_count"]
    if (n > 0) printf "member %s: %d WAL fsyncs, mean %.0f us\n", i, n, d[i " etcd_disk_wal_fsync_duration_seconds_sum"] * 1e6 / n } }' \
  "$WORK/metrics.before" "$WORK/metrics.after" | sort || true
for ((i = 1; i <= MEMBERS; i++)); do
  role=follower; [[ "$leader" == *":${clients[i]}" ]] && role=leader
  # per thread-name group (digits folded), % of one core over the window
  total=$(awk -v hz="$HZ" -v secs="$DURATION" 'NR == FNR { b[$1] = $2; next } { t += $2 - b[$1] } END { printf "%.1f", t * 100 / hz / secs }' "$WORK/t$i.before" "$WORK/t$i.after")
  echo "member $i ($role, pid ${PIDS[i-1]}): $total% of a core; per group: % of a core, us of CPU, voluntary context switches (cs: wake-ups) and involuntary ones (pre: preemptions) per ${WORKLOAD^^}"
  awk -v hz="$HZ" -v secs="$DURATION" -v rps="$rps" 'NR == FNR { b[$1] = $2; v[$1] = $4; iv[$1] = $5; next }
    { d = $2 - b[$1]; n = $3; gsub(/[0-9]+/, "N", n); g[n] += d; w[n] += $4 - v[$1]; p[n] += $5 - iv[$1] }
    END { for (n in g) if (g[n] > 0 || w[n] > 0) printf "%.1f %.1f %.3f %.3f %s\n", g[n] * 100 / hz / secs,
      g[n] * 1e6 / hz / secs / rps, w[n] / secs / rps, p[n] / secs / rps, n }' "$WORK/t$i.before" "$WORK/t$i.after" \
    | sort -rn | head -12 | awk '{ printf "  %6.1f%%  %6.1f us  %6.3f cs  %6.3f pre  %s\n", $1, $2, $3, $4, $5 }'
done
