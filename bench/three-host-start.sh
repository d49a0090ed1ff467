#!/usr/bin/env bash
# bench/three-host-start.sh: 300 units started on 3 systemd hosts, and the idle cost (issue #6).
#
# fleet's numbers to beat (3 hosts, each real systemd in a namespace, one etcd 3.4.23): 300
# template instances started with `fleetctl start --no-block` all running after 13.2 s; idle with
# 303 units loaded, the three fleetds 22% of a core between them and etcd 7.6%.
#
# Boots three throwaway systemd hosts (bench/systemd-host.sh: systemd as PID 1 of its own PID,
# mount and UTS namespace; the network is shared, everything talks over 127.0.0.1), one store
# outside them (--store kvd: a single kvd member, bin/kvd; --store etcd: a single etcd member, the
# etcd on PATH; one member either way, as fleet's run used one etcd), and bin/fleetd --runtime
# systemd inside each host (nsenter; each its own machine id and API port; all take part in the
# engine election). Then:
#
#   (a) submits the template bench-sleep@.service with fctl and times
#       `fctl start --no-block bench-sleep@{1..N}.service` (against host 1's API) until all N are
#       active/running in /fleet/v1/state (polled every 50 ms by bench/agent-load-probe.py), from
#       the start of the command; checks the count with `systemctl list-units` in every host;
#       With --warm-rounds R, the cluster first starts and destroys R rounds of N other instances
#       (bench-sleep@wR-1..N), each round until all run and then until all are gone, so the timed
#       start meets JVMs that have started units before (the state of a cluster that has been in
#       use), not ones a few seconds old; the default 0 times the first start after bring-up;
#   (b) waits --warmup seconds, then an idle window of --idle seconds: CPU of each fleetd (its JVM
#       plus the systemctl/journalctl processes it spawned and reaped), of the store, and of each
#       host's PID 1, in % of one core (utime+stime from /proc/<pid>/stat), with each fleetd's
#       busiest threads (/proc/<pid>/task/*/stat) and which fleetd leads the engine.
#
# Usage (as root, after `mvn -o -q -DskipTests package` at the repository root):
#   bench/three-host-start.sh [--store kvd|etcd] [--units 300] [--warmup 30] [--idle 60] [--warm-rounds 0] [--keep]
# ETCD= overrides the etcd binary. --keep leaves the work directory (fleetd and store logs) in
# place. Everything the script starts (the hosts, and with them the fleetds; the store) is killed
# on exit, also on failure or Ctrl-C. Needs root, unshare, nsenter, /lib/systemd/systemd, java,
# curl, ss, bc, python3 (and etcd for --store etcd).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STORE=kvd
UNITS=300
WARMUP=30
IDLE=60
KEEP=0
HOSTS=3
WARM_ROUNDS=0
while (($#)); do
  case "$1" in
    --store) STORE=$2; shift 2 ;;
    --units) UNITS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --warm-rounds) WARM_ROUNDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "three-host-start.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "three-host-start.sh: $*" >&2; exit 1; }
[[ "$STORE" == kvd || "$STORE" == etcd ]] || die "--store: '$STORE' is not kvd or etcd"
[[ "$UNITS" =~ ^[1-9][0-9]*$ ]] || die "--units: '$UNITS' is not a positive number"
[[ "$WARM_ROUNDS" =~ ^[0-9]+$ ]] || die "--warm-rounds: '$WARM_ROUNDS' is not a number"
[[ $(id -u) == 0 ]] || die "needs root (namespaces, systemd as PID 1)"
for tool in unshare nsenter java curl ss bc python3; do
  command -v "$tool" > /dev/null || die "needs '$tool' on PATH"
done
ETCD=${ETCD:-etcd}
[[ "$STORE" == kvd ]] || command -v "$ETCD" > /dev/null || die "--store etcd needs '$ETCD' on PATH (or ETCD=)"
[[ -x /lib/systemd/systemd ]] || die "needs /lib/systemd/systemd (Debian package systemd)"
for jar in agent/target/agent.jar kv-core/target/kv-core.jar cli/target/cli.jar; do
  [[ -f "$ROOT/$jar" ]] || die "$ROOT/$jar is missing; build with: (cd $ROOT && mvn -o -q -DskipTests package)"
done

WORK=$(mktemp -d /var/tmp/flotilla-three-host.XXXXXX)
# shellcheck source=bench/systemd-host.sh
source "$ROOT/bench/systemd-host.sh"
# shellcheck source=bench/measure.sh
source "$ROOT/bench/measure.sh"
STORE_PID=""
HOST_PIDS=()
HOST_UNSHARE_PIDS=()
FLEETD_PIDS=()
cleanup() {
  set +e
  # fleetds stop as `systemctl stop` would stop them (SIGTERM): the first one to stop after a build
  # writes bin/fleetd's AppCDS archive, which the next bring-up's fleetds start from
  stop_pids "${FLEETD_PIDS[@]}"
  for i in "${!HOST_PIDS[@]}"; do
    HOST_PID=${HOST_PIDS[$i]} HOST_UNSHARE_PID=${HOST_UNSHARE_PIDS[$i]} host_kill # fleetd dies with its host
  done
  if [[ -n "$STORE_PID" ]]; then
    kill -KILL "$STORE_PID" 2> /dev/null
    wait "$STORE_PID" 2> /dev/null
  fi
  if ((KEEP)); then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


fleetd_root

# ---- the store: one member ----
free_port; STORE_PORT=$FREE_PORT
free_port; STORE_PEER=$FREE_PORT
STORE_URL=http://127.0.0.1:$STORE_PORT
store_flags=(--name bench-store --data-dir "$WORK/store"
  --listen-client-urls "$STORE_URL" --advertise-client-urls "$STORE_URL"
  --listen-peer-urls "http://127.0.0.1:$STORE_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$STORE_PEER"
  --initial-cluster "bench-store=http://127.0.0.1:$STORE_PEER")
if [[ "$STORE" == kvd ]]; then
  "$ROOT/bin/kvd" "${store_flags[@]}" > "$WORK/store.log" 2>&1 &
else
  "$ETCD" "${store_flags[@]}" > "$WORK/store.log" 2>&1 &
fi
STORE_PID=$!
for _ in $(seq 1 300); do
  kill -0 "$STORE_PID" 2> /dev/null || { tail -20 "$WORK/store.log" >&2; die "$STORE exited during start-up"; }
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$STORE_URL/version" || true)" == 200 ]] && break
  sleep 0.2
done
store_version=$(curl -s --max-time 1 "$STORE_URL/version" || true)
echo "store: $STORE PID $STORE_PID on $STORE_URL ($store_version); work dir $WORK"

# ---- the hosts, a fleetd in each ----
APIS=()
NSENTER_PIDS=()
for h in $(seq 1 "$HOSTS"); do
  host_boot "flotilla-bench-$h" "$WORK/host-$h.log" || die "systemd host $h did not boot"
  HOST_PIDS+=("$HOST_PID")
  HOST_UNSHARE_PIDS+=("$HOST_UNSHARE_PID")
  free_port
  APIS+=("http://127.0.0.1:$FREE_PORT")
  nsenter -t "$HOST_PID" -a "$FLEETD_ROOT/bin/fleetd" \
    --endpoints "$STORE_URL" --machine-id "bench-machine-$h" --api-listen "${APIS[$((h - 1))]}" \
    --runtime systemd --data-dir /run/fleetd > "$WORK/fleetd-$h.log" 2>&1 &
  NSENTER_PIDS+=($!)
  disown $! # it dies with the host; no job notice for that
done
for h in $(seq 1 "$HOSTS"); do
  i=$((h - 1))
  await_fleetd "${NSENTER_PIDS[$i]}" "${APIS[$i]}" "bench-machine-$h" "$WORK/fleetd-$h.log"
  FLEETD_PIDS[i]=$FLEETD_PID
done
API=${APIS[0]}
for _ in $(seq 1 300); do
  [[ $(curl -s --max-time 1 "$API/fleet/v1/machines" | grep -o '"id"' | wc -l) -ge $HOSTS ]] && break
  sleep 0.2
done
echo "hosts up: systemd PIDs ${HOST_PIDS[*]}; fleetd JVMs ${FLEETD_PIDS[*]}; APIs ${APIS[*]}"

fctl() { "$ROOT/bin/fctl" --endpoint "$API" "$@"; }
submit_sleepers three-host-start

running_in_host() { # HOST PATTERN: how many units matching PATTERN run in host HOST (1..HOSTS)
  nsenter -t "${HOST_PIDS[$(($1 - 1))]}" -a systemctl list-units "$2" --state=running --no-legend --plain --no-pager | wc -l
}
running_in_hosts() { # PATTERN: how many units matching PATTERN run in the hosts, together
  local h n=0
  for h in $(seq 1 "$HOSTS"); do
    n=$((n + $(running_in_host "$h" "$1")))
  done
  echo "$n"
}
for r in $(seq 1 "$WARM_ROUNDS"); do
  warm=()
  for ((i = 1; i <= UNITS; i++)); do warm+=("bench-sleep@w$r-$i.service"); done
  tw=$(date +%s.%N)
  fctl start --no-block "${warm[@]}" > /dev/null
  python3 "$ROOT/bench/agent-load-probe.py" all "$API" "bench-sleep@w$r-" "$UNITS" 120 > "$WORK/warm-running" 2> /dev/null \
    || die "warm-up round $r: $(cat "$WORK/warm-running")"
  up=$(echo "$(date +%s.%N) - $tw" | bc -l)
  fctl destroy "${warm[@]}" > /dev/null
  for _ in $(seq 1 600); do
    [[ $(running_in_hosts 'bench-sleep@*') == 0 && $(curl -s --max-time 2 "$API/fleet/v1/state" | grep -o 'bench-sleep@w' | wc -l) == 0 ]] && break
    sleep 0.1
  done
  [[ $(running_in_hosts 'bench-sleep@*') == 0 ]] || die "warm-up round $r: units still running after destroy"
  printf 'warm-up round %d: %d instances all running after %.2f s, then destroyed\n' "$r" "$UNITS" "$up"
done

# ---- (a) time until all are active/running ----
cpu_labels=(store="$STORE_PID" bench-script=$$)
for h in $(seq 1 "$HOSTS"); do
  cpu_labels+=(fleetd-"$h"="${FLEETD_PIDS[$((h - 1))]}" systemd-"$h"="${HOST_PIDS[$((h - 1))]}")
done
python3 "$ROOT/bench/cpu-window.py" snap "$WORK/cpu.before" "${cpu_labels[@]}"
t0=$(date +%s.%N)
PROBE_T0=$t0 PROBE_CPU_OUT=$WORK/probe-cpu python3 "$ROOT/bench/agent-load-probe.py" all "$API" bench-sleep@ "$UNITS" 120 > "$WORK/all-running" \
  2> "$WORK/running-over-time" &
PROBE=$!
echo "fctl start began at $(date -u +%H:%M:%S.%N -d @"$t0")" # to line up with the fleetd logs
TIMEFORMAT='%U %S'
{ time fctl start --no-block "${instances[@]}" > "$WORK/fctl-start.log" 2> "$WORK/fctl-start.err"; } 2> "$WORK/fctl-cpu" \
  || { cat "$WORK/fctl-start.err" >&2; die "fctl start failed"; }
t1=$(date +%s.%N)
echo "fctl start ended at $(date -u +%H:%M:%S.%N -d @"$t1")"
wait "$PROBE" || die "not all $UNITS units active/running: $(cat "$WORK/all-running")"
python3 "$ROOT/bench/cpu-window.py" snap "$WORK/cpu.after" "${cpu_labels[@]}"
t2=$(date +%s.%N)
probe_s=$(cat "$WORK/all-running")
fctl_s=$(echo "$t1 - $t0" | bc -l)
per_host=()
total=0
for h in $(seq 1 "$HOSTS"); do
  n=$(running_in_host "$h" 'bench-sleep@*')
  per_host+=("$n")
  total=$((total + n))
done
echo "  active/running in /fleet/v1/state over time: $(awk '{ printf "%s%s %s", sep, $1, $3; sep = ", " }' "$WORK/running-over-time")"
printf 'store %s: all %d active/running in /fleet/v1/state %.2f s after `fctl start --no-block` began (fctl took %.2f s itself); systemd runs %s (%d)\n' \
  "$STORE" "$UNITS" "$probe_s" "$fctl_s" "$(IFS=+; echo "${per_host[*]}")" "$total"
python3 "$ROOT/bench/cpu-window.py" diff "$WORK/cpu.before" "$WORK/cpu.after" "$(echo "$t2 - $t0" | bc -l)" | sed 's/^/  /'
read -r fctl_user fctl_sys < "$WORK/fctl-cpu"
echo "    (bench-script's reaped CPU holds fctl's: user $fctl_user s, sys $fctl_sys s, and the probe's: $(cat "$WORK/probe-cpu"))"
((total == UNITS)) || die "systemd runs $total bench-sleep units in the hosts, not $UNITS"

# ---- (b) idle ----
HZ=$(getconf CLK_TCK)

sleep "$WARMUP"
declare -A before
for h in $(seq 1 "$HOSTS"); do
  i=$((h - 1))
  before[f$h]=$(tree_ticks "${FLEETD_PIDS[$i]}")
  before[s$h]=$(proc_ticks "${HOST_PIDS[$i]}")
  thread_ticks "${FLEETD_PIDS[$i]}" > "$WORK/threads-$h.before"
done
before[store]=$(proc_ticks "$STORE_PID" 1)
before[machine]=$(machine_busy)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_idle=$(date +%s.%N)
sleep "$IDLE"
secs=$(echo "$(date +%s.%N) - $t_idle" | bc -l)
pct() { echo "scale=2; ($1 - $2) * 100 / $HZ / $secs" | bc -l; }
fleetd_sum=0
row=""
for h in $(seq 1 "$HOSTS"); do
  i=$((h - 1))
  f=$(pct "$(tree_ticks "${FLEETD_PIDS[$i]}")" "${before[f$h]}")
  s=$(pct "$(proc_ticks "${HOST_PIDS[$i]}")" "${before[s$h]}")
  thread_ticks "${FLEETD_PIDS[$i]}" > "$WORK/threads-$h.after"
  leader=""
  grep -q "engine: leading\|became the engine leader\|engine leader" "$WORK/fleetd-$h.log" 2> /dev/null && leader=" (engine leader per its log)"
  printf '  fleetd %d%s: %.2f%% (host PID 1 %.2f%%); busiest threads: %s\n' "$h" "$leader" "$f" "$s" \
    "$(top_threads "$WORK/threads-$h.before" "$WORK/threads-$h.after" "$secs" 6)"
  fleetd_sum=$(echo "$fleetd_sum + $f" | bc -l)
  row+="$(printf '%.2f | %.2f | ' "$f" "$s")"
done
st=$(pct "$(proc_ticks "$STORE_PID" 1)" "${before[store]}")
read -r b0 a0 <<< "${before[machine]}"
read -r b1 a1 <<< "$(machine_busy)"
m=$(echo "scale=2; ($b1 - $b0) * 100 / ($a1 - $a0) * $(nproc)" | bc -l)
printf 'idle %.0f s after %s s warm-up, %d units: fleetds %.2f%% of a core together, %s %.2f%%, fleetds + store %.2f%%; whole machine %.0f%% of %d cores; load average before %s, after %s\n' \
  "$secs" "$WARMUP" "$UNITS" "$fleetd_sum" "$STORE" "$st" "$(echo "$fleetd_sum + $st" | bc -l)" "$m" "$(nproc)" \
  "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| store | units | to all running (s) | fctl (s) | fleetd 1 % | PID 1 % | fleetd 2 % | PID 1 % | fleetd 3 % | PID 1 % | store % | fleetds + store % | machine % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '| %s | %d | %.2f | %.2f | %s%.2f | %.2f | %.0f |\n' "$STORE" "$UNITS" "$probe_s" "$fctl_s" "$row" "$st" \
  "$(echo "$fleetd_sum + $st" | bc -l)" "$m"
