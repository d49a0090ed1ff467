#!/usr/bin/env bash
# bench/agent-load.sh: the agent's load on one systemd host (issue #7's "Load" item).
#
# Boots one throwaway systemd host (bench/systemd-host.sh: real systemd as PID 1 of its own PID,
# mount and UTS namespace, private /run and /tmp, a private boot target; the network is shared, so
# everything talks over 127.0.0.1), runs a kvd (bin/kvd) outside it and bin/fleetd --runtime systemd
# inside it (nsenter), submits a template of a small sleep service through bin/fctl and starts
# --units instances with `fctl start --no-block`, then measures:
#
#   (a) the time until all of them are active/running in /fleet/v1/state (polled every 50 ms),
#       from the start of `fctl start` and from its return (with --start-with api: the instances
#       are created by PUT /fleet/v1/units/<instance>, 8 requests at a time, as fleetctl would
#       send them, so that the time is not fctl's own);
#   (b) an idle window of --idle seconds: CPU of fleetd (its JVM plus the systemctl processes it
#       spawned and reaped), kvd, the host's systemd (PID 1, utime+stime from /proc/<pid>/stat),
#       the host's journald and fleetd's journal follower (journalctl -f), in % of one core; and the
#       systemctl/journalctl/busctl processes fleetd spawned, counted exactly: fleetd runs with a
#       PATH whose first directory holds wrappers of those three that log each exec, then exec the
#       real binary;
#   (c) the same window with state-change load: every --restart-every seconds one unit's main
#       process is killed behind fleet's back (kill -9 inside the host; the unit has no Restart=,
#       so systemd marks it failed) and, half a period later, started again with systemctl inside
#       the host;
#       each time, how long until /fleet/v1/state shows failed, and active/running again (polled
#       every 20 ms; those polls are fleet API requests and cost fleetd and kvd a little CPU).
#
# Usage (as root, after `mvn -o -q -DskipTests package`):
#   bench/agent-load.sh [--units 300] [--idle 60] [--restart-every 10] [--start-with fctl|api] [--keep]
# --keep leaves the work directory (logs, spawn log) in place. Everything the script starts (the
# host, and with it fleetd; kvd) is killed on exit, also on failure or Ctrl-C. Needs root, unshare,
# nsenter, /lib/systemd/systemd, java, curl, ss, bc and python3 (bench/agent-load-probe.py polls the
# API). Results go to stdout; bench/RESULTS.md records a run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UNITS=300
IDLE=60
RESTART_EVERY=10
KEEP=0
SUBMIT=fctl
while (($#)); do
  case "$1" in
    --units) UNITS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --restart-every) RESTART_EVERY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --start-with) SUBMIT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "agent-load.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "agent-load.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (namespaces, systemd as PID 1)"
for tool in unshare nsenter java curl ss bc python3; do
  command -v "$tool" > /dev/null || die "needs '$tool' on PATH"
done
[[ -x /lib/systemd/systemd ]] || die "needs /lib/systemd/systemd (Debian package systemd)"
for jar in agent/target/agent.jar kv-core/target/kv-core.jar cli/target/cli.jar; do
  [[ -f "$ROOT/$jar" ]] || die "$ROOT/$jar is missing; build with: (cd $ROOT && mvn -o -q -DskipTests package)"
done

# Not under /tmp: the host mounts a /tmp of its own, and fleetd inside must see the wrappers.
WORK=$(mktemp -d /var/tmp/flotilla-agent-load.XXXXXX)
# shellcheck source=bench/systemd-host.sh
source "$ROOT/bench/systemd-host.sh"
# shellcheck source=bench/measure.sh
source "$ROOT/bench/measure.sh"
KVD_PID=""
cleanup() {
  set +e
  host_kill # fleetd dies with the host
  if [[ -n "$KVD_PID" ]]; then
    kill -KILL "$KVD_PID" 2> /dev/null
    wait "$KVD_PID" 2> /dev/null
  fi
  if ((KEEP)); then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- the launcher fleetd runs from, visible inside the host ----
fleetd_root

# ---- wrappers that count fleetd's systemctl/journalctl/busctl processes ----
WRAP=$WORK/wrap
SPAWNED=$WORK/spawned.log
mkdir -p "$WRAP"
: > "$SPAWNED"
for tool in systemctl journalctl busctl; do
  real=$(command -v "$tool" || echo "/usr/bin/$tool")
  # read is a shell builtin: the timestamp (seconds since boot) costs no extra process
  printf '#!/bin/sh\nread up rest < /proc/uptime\necho "%s $1 $up" >> %s\nexec %s "$@"\n' "$tool" "$SPAWNED" "$real" \
    > "$WRAP/$tool"
  chmod +x "$WRAP/$tool"
done

# ---- kvd ----
free_port; KVD_PORT=$FREE_PORT
free_port; KVD_PEER=$FREE_PORT
free_port; API_PORT=$FREE_PORT
API=http://127.0.0.1:$API_PORT
"$ROOT/bin/kvd" --name bench-kvd --data-dir "$WORK/kvd" \
  --listen-client-urls "http://127.0.0.1:$KVD_PORT" --advertise-client-urls "http://127.0.0.1:$KVD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$KVD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$KVD_PEER" \
  --initial-cluster "bench-kvd=http://127.0.0.1:$KVD_PEER" > "$WORK/kvd.log" 2>&1 &
KVD_PID=$!
for _ in $(seq 1 300); do
  kill -0 "$KVD_PID" 2> /dev/null || { tail -20 "$WORK/kvd.log" >&2; die "kvd exited during start-up"; }
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$KVD_PORT/v2/keys/" || true)" != 000 ]] && break
  sleep 0.2
done

# ---- the host, and fleetd inside it ----
host_boot flotilla-agent-load "$WORK/host.log" || die "the systemd host did not boot"
echo "host up: systemd PID $HOST_PID; kvd PID $KVD_PID on 127.0.0.1:$KVD_PORT; work dir $WORK"
nsenter -t "$HOST_PID" -a env PATH="$WRAP:$PATH" "$FLEETD_ROOT/bin/fleetd" \
  --endpoints "http://127.0.0.1:$KVD_PORT" --machine-id bench-machine-1 --api-listen "$API" \
  --runtime systemd --data-dir /run/fleetd > "$WORK/fleetd.log" 2>&1 &
NSENTER_PID=$!
disown "$NSENTER_PID" # it dies with the host; no job notice for that
await_fleetd "$NSENTER_PID" "$API" bench-machine-1 "$WORK/fleetd.log"
echo "fleetd up: JVM PID $FLEETD_PID, API $API"

fctl() { "$ROOT/bin/fctl" --endpoint "$API" "$@"; }
submit_sleepers agent-load

# ---- (a) time until all are active/running ----
python3 "$ROOT/bench/agent-load-probe.py" all "$API" bench-sleep@ "$UNITS" 300 > "$WORK/all-running" \
  2> "$WORK/running-over-time" &
PROBE=$!
t0=$(date +%s.%N)
case "$SUBMIT" in
  fctl) fctl start --no-block "${instances[@]}" > "$WORK/fctl-start.log" ;;
  api) python3 "$ROOT/bench/agent-load-probe.py" start "$API" bench-sleep@.service "$UNITS" 8 > /dev/null ;;
  *) die "--start-with: '$SUBMIT' is not fctl or api" ;;
esac
t1=$(date +%s.%N)
wait "$PROBE" || die "not all $UNITS units active/running: $(cat "$WORK/all-running")"
probe_s=$(cat "$WORK/all-running")
fctl_s=$(echo "$t1 - $t0" | bc -l)
running_in_host=$(host_exec systemctl list-units 'bench-sleep@*' --state=running --no-legend --plain --no-pager | wc -l)
echo "  active/running in /fleet/v1/state over time: $(awk '{ printf "%s%s %s", sep, $1, $3; sep = ", " }' "$WORK/running-over-time")"
printf 'all %d active/running in /fleet/v1/state %.2f s after the start (%s) began (it took %.2f s itself, so %.2f s after it returned); systemd runs %d\n' \
  "$UNITS" "$probe_s" "$([[ $SUBMIT == fctl ]] && echo 'fctl start --no-block' || echo 'PUT /fleet/v1/units, 8 at a time')" "$fctl_s" "$(echo "$probe_s - $fctl_s" | bc -l)" "$running_in_host"

# ---- CPU and process accounting ----
HZ=$(getconf CLK_TCK)
child_named() { # PARENT COMM: the first child of PARENT called COMM
  ps -o pid=,comm= --ppid "$1" | awk -v c="$2" '$2 == c { print $1; exit }'
}
JOURNALD_PID=$(child_named "$HOST_PID" systemd-journal)
spawn_counts() { awk '{ n[$1]++ } END { printf "%d %d %d", n["systemctl"], n["journalctl"], n["busctl"] }' "$SPAWNED"; }


declare -A before
snapshot() {
  thread_ticks "$FLEETD_PID" > "$WORK/threads.before"
  FOLLOWER_PID=$(child_named "$FLEETD_PID" journalctl)
  before[fleetd]=$(proc_ticks "$FLEETD_PID" 1)
  before[kvd]=$(proc_ticks "$KVD_PID" 1)
  before[systemd]=$(proc_ticks "$HOST_PID")
  before[journald]=$(proc_ticks "${JOURNALD_PID:-0}")
  before[follower]=$(proc_ticks "${FOLLOWER_PID:-0}")
  before[machine]=$(machine_busy)
  before[spawned]=$(spawn_counts)
  before[t]=$(date +%s.%N)
  before[uptime]=$(cut -d' ' -f1 /proc/uptime)
}
report() { # LABEL
  local t secs
  t=$(date +%s.%N)
  secs=$(echo "$t - ${before[t]}" | bc -l)
  pct() { echo "scale=2; ($(proc_ticks "$1" "${3:-0}") - $2) * 100 / $HZ / $secs" | bc -l; }
  local f k s j fo
  f=$(pct "$FLEETD_PID" "${before[fleetd]}" 1)
  k=$(pct "$KVD_PID" "${before[kvd]}" 1)
  s=$(pct "$HOST_PID" "${before[systemd]}")
  j=$(pct "${JOURNALD_PID:-0}" "${before[journald]}")
  fo=$(pct "${FOLLOWER_PID:-0}" "${before[follower]}")
  read -r b0 a0 <<< "${before[machine]}"
  read -r b1 a1 <<< "$(machine_busy)"
  local m
  m=$(echo "scale=2; ($b1 - $b0) * 100 / ($a1 - $a0) * $(nproc)" | bc -l)
  read -r sc0 jc0 bc0 <<< "${before[spawned]}"
  read -r sc1 jc1 bc1 <<< "$(spawn_counts)"
  local per_min
  per_min=$(echo "scale=1; ($sc1 - $sc0 + $jc1 - $jc0 + $bc1 - $bc0) * 60 / $secs" | bc -l)
  printf '%s (%.0f s): CPU %% of one core: fleetd %.2f, kvd %.2f, systemd PID 1 %.2f, journald %.2f, journal follower %.2f; whole machine %.0f%% of %d cores; spawned: systemctl %d, journalctl %d, busctl %d (%.1f per minute)\n' \
    "$1" "$secs" "$f" "$k" "$s" "$j" "$fo" "$m" "$(nproc)" $((sc1 - sc0)) $((jc1 - jc0)) $((bc1 - bc0)) "$per_min"
  thread_ticks "$FLEETD_PID" > "$WORK/threads.after"
  echo "  fleetd's busiest threads (% of one core): $(top_threads "$WORK/threads.before" "$WORK/threads.after" "$secs")"
  echo "  spawned in the window (seconds since boot): $(awk -v from="${before[uptime]}" '$3 >= from' "$SPAWNED" | tr '\n' ';')"
  printf '| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %d | %.0f |\n' \
    "$1" "$UNITS" "$secs" "$f" "$k" "$s" "$j" "$fo" $((sc1 - sc0)) $((jc1 - jc0)) $((bc1 - bc0)) "$m" >> "$WORK/table.md"
}

# Let the follow-up state reads after the start pass before measuring idle.
sleep 5

# ---- (b) idle ----
snapshot
sleep "$IDLE"
report idle

# ---- (c) one unit killed and restarted behind fleet's back every RESTART_EVERY s ----
lat_failed=()
lat_running=()
snapshot
end=$(echo "${before[t]} + $IDLE" | bc -l)
k=0
while (($(echo "$(date +%s.%N) + $RESTART_EVERY <= $end + 0.5" | bc -l))); do
  cycle_start=$(date +%s.%N)
  k=$((k + 1))
  unit="bench-sleep@$k.service"
  pid=$(host_exec systemctl show -p MainPID --value "$unit")
  host_exec kill -9 "$pid"
  lat_failed+=("$(python3 "$ROOT/bench/agent-load-probe.py" unit "$API" "$unit" failed failed 10)")
  sleep "$(echo "$cycle_start + $RESTART_EVERY / 2 - $(date +%s.%N)" | bc -l | sed 's/^-.*/0/')"
  host_exec systemctl start "$unit"
  lat_running+=("$(python3 "$ROOT/bench/agent-load-probe.py" unit "$API" "$unit" active running 10)")
  sleep "$(echo "$cycle_start + $RESTART_EVERY - $(date +%s.%N)" | bc -l | sed 's/^-.*/0/')"
done
sleep "$(echo "$end - $(date +%s.%N)" | bc -l | sed 's/^-.*/0/')"
report "restart every ${RESTART_EVERY}s"
echo "kill -9 → /fleet/v1/state shows failed, ms (each includes the kill through nsenter): ${lat_failed[*]}"
echo "systemctl start → /fleet/v1/state shows active/running again, ms (each includes systemctl through nsenter): ${lat_running[*]}"

echo
echo "| window | units | seconds | fleetd % | kvd % | systemd PID 1 % | journald % | journal follower % | systemctl | journalctl | busctl | machine % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
cat "$WORK/table.md"
