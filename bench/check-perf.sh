#!/usr/bin/env bash
# bench/check-perf.sh: `ETCDCTL_API=3 etcdctl check perf` against a 3-member kvd cluster and a
# 3-member etcd 3.4 cluster on this machine, one after the other (issue #5's measurement).
#
# Each cluster runs as three processes on 127.0.0.x loopback addresses (kvd on .41-.43, etcd on
# .51-.53) with fresh data dirs under /var/tmp; etcdctl gets all three client URLs, as a user
# would give them. `check perf` writes for 60 s and reports PASS/FAIL on throughput, the slowest
# request (0.5 s) and the standard deviation; --load s is 150 writes/s from 50 clients, m 1,000
# from 200, l 8,000 from 500, xl 15,000 from 1,000.
#
# Usage (after `mvn -q -DskipTests package`; needs etcd and etcdctl from Debian):
#   bench/check-perf.sh [--load s|m|l|xl] [--only kvd|etcd] [--warmup SECONDS] [--keep] [--net N]
#                       [--threads] [--profile] [--ap /tmp/ap/linux-x64/libasyncProfiler.so]
# --warmup runs the s load for that many seconds first (then deletes its keys), for both systems.
# --threads prints, per member, its threads' CPU per write over the measured window, grouped by
# thread name with digits folded (from /proc/<pid>/task/*/stat). --profile (kvd only) attaches
# async-profiler (itimer, 1 ms, collapsed stacks, per thread) to every member from 20 to 40 s
# into the load and keeps the work directory with the files (m1.collapsed ...).
# Everything started is killed on exit; --keep leaves the work directory with the logs.
# --net N puts kvd on 127.0.0.N1-N3 and etcd on 127.0.0.(N+1)1-3 (default 4: .41-.43 and .51-.53),
# so that two runs on one machine do not meet: a member that cannot bind its address (another
# run's cluster has it) exits, and etcdctl would then measure the other cluster; the script stops
# with that member's log instead.
# Env: EXTRA_ARGS, more flags for every member (e.g. EXTRA_ARGS="--snapshot-count 1000000");
# PROFILE_EVENT, what --profile samples (default event=itimer,interval=1ms; e.g. alloc=256k).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOAD=s
ONLY=""
KEEP=0
WARMUP=0
NET=4
THREADS=0
PROFILE=0
AP=/tmp/ap/linux-x64/libasyncProfiler.so
while (($#)); do
  case "$1" in
    --load) LOAD=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --net) NET=$2; shift 2 ;;
    --threads) THREADS=1; shift ;;
    --profile) PROFILE=1; THREADS=1; KEEP=1; shift ;;
    --ap) AP=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-perf.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "check-perf.sh: $*" >&2; exit 1; }
[[ "$NET" =~ ^[1-9][0-9]?$ ]] && ((NET <= 24)) || die "--net takes 1-24, got '$NET'"
for tool in etcd etcdctl curl; do command -v "$tool" > /dev/null || die "needs '$tool' on PATH"; done
[[ -f "$ROOT/kv-core/target/kv-core.jar" ]] || die "build first: (cd $ROOT && mvn -q -DskipTests package)"

((PROFILE == 0)) || [[ -f "$AP" ]] || die "async-profiler library $AP not found (--ap)"
WORK=$(mktemp -d /var/tmp/flotilla-check-perf.XXXXXX)
HZ=$(getconf CLK_TCK)
# shellcheck source=bench/measure.sh
source "$ROOT/bench/measure.sh"
if ((PROFILE)); then
  attach_helper "$WORK" || die "cannot compile the attach helper"
fi
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_all
  if ((KEEP)); then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start SYSTEM NET: three members on 127.0.0.${NET}1..3, client port 2379, peer port 2380
start() {
  local system=$1 net=$2 cluster="" i
  for i in 1 2 3; do cluster+="${cluster:+,}m$i=http://127.0.0.$net$i:2380"; done
  for i in 1 2 3; do # someone already listening there would answer for our member
    if (exec 3<> "/dev/tcp/127.0.0.$net$i/2379") 2> /dev/null; then
      die "127.0.0.$net$i:2379 is taken (another run on these addresses? try --net)"
    fi
  done
  for i in 1 2 3; do
    local ip=127.0.0.$net$i bin
    bin=$([[ $system == kvd ]] && echo "$ROOT/bin/kvd" || echo etcd)
    "$bin" --name "m$i" --data-dir "$WORK/$system-m$i" \
      --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
      --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "check-perf-$system" \
      ${EXTRA_ARGS:+$EXTRA_ARGS} > "$WORK/$system-m$i.log" 2>&1 &
    PIDS+=($!)
  done
  ENDPOINTS="http://127.0.0.${net}1:2379,http://127.0.0.${net}2:2379,http://127.0.0.${net}3:2379"
  for _ in $(seq 1 300); do
    if ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" --command-timeout=2s endpoint health > /dev/null 2>&1; then
      members_alive "$system"
      return
    fi
    sleep 0.2
  done
  die "$system cluster not healthy within 60 s (logs in $WORK)"
}

# members_alive SYSTEM: dies, with the member's log, when one of ours has exited (e.g. its address
# was taken by another run's cluster, which then answered in its place)
members_alive() {
  local i
  for i in 0 1 2; do
    [[ "$(cut -d')' -f2 "/proc/${PIDS[i]}/stat" 2> /dev/null | cut -d' ' -f2)" =~ ^[RSDI]$ ]] && continue
    tail -5 "$WORK/$1-m$((i + 1)).log" >&2
    die "$1 member m$((i + 1)) has exited (another run on these addresses? try --net)"
  done
}

run() {
  local system=$1 net=$2
  start "$system" "$net"
  if ((WARMUP > 0)); then # a JVM's first requests run cold (class loading, interpreter): N puts first
    ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" check perf --load=s --prefix=/warmup/ > /dev/null 2>&1 &
    local warm=$!
    sleep "$WARMUP"
    kill "$warm" 2> /dev/null || true
    wait "$warm" 2> /dev/null || true
    ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" del --prefix /warmup/ > /dev/null
  fi
  echo "== $system: etcdctl check perf --load=$LOAD against $ENDPOINTS ($(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" check perf --load="$LOAD" > "$WORK/$system-check.out" 2>&1 &
  local perf=$! t0 c0 s0 t1 c1 s1
  # CPU while the load runs (from 5 s to 55 s of its 60): etcdctl's own and the three members'
  sleep 5
  t0=$(date +%s.%N) c0=$(cpu_ticks "$perf") s0=$(cpu_ticks "${PIDS[@]}") j0=$(jit_ticks "${PIDS[@]}") r0=$(revision)
  local i
  if ((THREADS)); then for i in 0 1 2; do thread_ticks "${PIDS[i]}" > "$WORK/$system-t$i.before"; done; fi
  if ((PROFILE)) && [[ $system == kvd ]]; then # 20-40 s into the load: start-up and the first compiles left out
    sleep_until "$t0" 15
    java -cp "$WORK" Attach "$AP" "start,${PROFILE_EVENT:-event=itimer,interval=1ms},threads" "${PIDS[@]}"
    sleep_until "$t0" 35
    for i in 0 1 2; do java -cp "$WORK" Attach "$AP" "stop,file=$WORK/m$((i + 1)).collapsed,collapsed" "${PIDS[i]}"; done
    sleep_until "$t0" 50
  else
    sleep 50
  fi
  t1=$(date +%s.%N) c1=$(cpu_ticks "$perf") s1=$(cpu_ticks "${PIDS[@]}") j1=$(jit_ticks "${PIDS[@]}") r1=$(revision)
  # a slow `endpoint status` (up to 5 s each under load) can push this reading past check perf's end
  [[ "$(cut -d')' -f2 "/proc/$perf/stat" 2> /dev/null | cut -d' ' -f2)" =~ ^[RSD]$ ]] || echo "WARNING: check perf ended before the 55 s reading: the window below holds its final delete"
  if ((THREADS)); then for i in 0 1 2; do thread_ticks "${PIDS[i]}" > "$WORK/$system-t$i.after"; done; fi
  wait "$perf" || true
  local t2 s2
  t2=$(date +%s.%N) s2=$(cpu_ticks "${PIDS[@]}")
  # the result lines, without the progress bar
  tr '\r' '\n' < "$WORK/$system-check.out" | grep -E '^(PASS|FAIL|Slowest|Throughput|Stddev|Error)' || true
  # from 55 s to check perf's exit: the load's last 5 s and its final delete of every key it wrote
  awk -v t1="$t1" -v t2="$t2" -v s=$((s2 - s1)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "from 55 s to the end (last writes, final delete): %.1f s, members %.1f s of CPU\n", t2 - t1, s / hz }'
  awk -v t0="$t0" -v t1="$t1" -v c=$((c1 - c0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { t = t1 - t0; printf "cpu cores during the load (5-55 s): members %.2f, etcdctl %.2f\n", s / hz / t, c / hz / t }'
  # the writes of the same window (the store's revision: one per put), known even when check perf
  # ends in an error before its own lines (its final delete of all its keys can time out)
  # and without the JIT compilers' CPU (a fresh JVM compiles for a minute or more: that CPU is
  # about the same per run whatever the throughput, so it inflates the per-write figure of a slow run)
  awk -v t0="$t0" -v t1="$t1" -v s=$((s1 - s0)) -v j=$((j1 - j0)) -v w=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (w > 0) printf "writes during the load (5-55 s): %d/s, member cpu per write %.0f us, %.0f us without the JIT compilers (%.2f cores)\n", w / (t1 - t0), s / hz / w * 1e6, (s - j) / hz / w * 1e6, j / hz / (t1 - t0) }'
  if ((THREADS)) && ((r1 > r0)); then # per member and thread group, us of CPU per write of the window
    for i in 0 1 2; do
      awk -v hz="$HZ" -v w=$((r1 - r0)) -v m=$((i + 1)) 'NR == FNR { b[$1] = $2; v[$1] = $4; next }
        { d = $2 - b[$1]; n = $3; gsub(/[0-9]+/, "N", n); g[n] += d; t += d; s[n] += $4 - v[$1] }
        END { printf "member %d: %.0f us per write (CPU, voluntary context switches per write)\n", m, t / hz / w * 1e6
              for (n in g) if (g[n] > 0) printf "%.1f %s %.2f\n", g[n] / hz / w * 1e6, n, s[n] / w }' \
        "$WORK/$system-t$i.before" "$WORK/$system-t$i.after" | { read -r head; echo "$head"; sort -rn | head -12 | awk '{ printf "  %7.1f us %6.2f  %s\n", $1, $3, $2 }'; }
    done
  fi
  members_alive "$system" # all three answered to the end: the numbers are this cluster's
  stop_all
}

# jit_ticks PID...: user + system clock ticks of these processes' JIT compiler threads so far
jit_ticks() {
  local total=0 p t f
  for p in "$@"; do
    for t in /proc/"$p"/task/*; do
      [[ "$(cat "$t/comm" 2> /dev/null)" == C[12]\ CompilerThre* ]] || continue
      f=$(cut -d')' -f2- "$t/stat" 2> /dev/null) || continue
      set -- $f
      total=$((total + ${12} + ${13}))
    done
  done
  echo "$total"
}

# revision: the highest store revision the members report (0 when none answers)
revision() {
  ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" --command-timeout=5s endpoint status -w json 2> /dev/null \
    | grep -o '"revision":[0-9]*' | cut -d: -f2 | sort -n | tail -1 | grep . || echo 0
}

# sleep_until T0 SECONDS: sleeps until SECONDS after T0 (a date +%s.%N), at once if that is past
sleep_until() {
  sleep "$(awk -v t0="$1" -v s="$2" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + s - now; print (d > 0 ? d : 0) }')"
}

# cpu_ticks PID...: user + system clock ticks of these processes so far (0 for one that is gone)
cpu_ticks() {
  local total=0 p f
  for p in "$@"; do
    f=$(cut -d')' -f2- "/proc/$p/stat" 2> /dev/null) || continue
    set -- $f
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

if [[ -z "$ONLY" || "$ONLY" == kvd ]]; then run kvd "$NET"; fi
if [[ -z "$ONLY" || "$ONLY" == etcd ]]; then run etcd $((NET + 1)); fi
