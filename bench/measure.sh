# bench/measure.sh: functions the benchmarks share (sourced by agent-load.sh, three-host-start.sh,
# profile-put.sh and check-perf.sh; needs ROOT, WORK and a die function): free ports, the fleetd
# launcher copied where a host can see it, waiting for a fleetd to come up, the sleeper template,
# CPU ticks of processes and threads from /proc, and the helper that attaches async-profiler.

taken=" "
free_port() { # sets FREE_PORT to a port nothing on this machine uses
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [[ "$taken" == *" $p "* ]] && continue
    [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ]] || continue
    taken+="$p "
    FREE_PORT=$p
    return
  done
  die "found no free port on 127.0.0.1"
}

fleetd_root() { # sets FLEETD_ROOT: the launcher fleetd runs from, visible inside the hosts (they mount a /tmp of their own)
  FLEETD_ROOT=$ROOT
  if [[ "$ROOT" == /tmp/* ]]; then
    FLEETD_ROOT=$WORK/root
    mkdir -p "$FLEETD_ROOT/bin" "$FLEETD_ROOT/agent/target"
    cp "$ROOT/bin/fleetd" "$ROOT/bin/cds.sh" "$FLEETD_ROOT/bin/"
    cp -r "$ROOT/agent/target/agent.jar" "$ROOT/agent/target/lib" "$FLEETD_ROOT/agent/target/"
  fi
}

stop_pids() { # PID...: SIGTERM to each, then wait up to 20 s for all of them to be gone
  (($#)) || return 0
  kill -TERM "$@" 2> /dev/null
  local p _
  for _ in $(seq 1 200); do
    for p in "$@"; do kill -0 "$p" 2> /dev/null && break; p=""; done
    [[ -z "$p" ]] && return 0
    sleep 0.1
  done
}

proc_ticks() { # PID [1: with its reaped children]: utime+stime (+cutime+cstime) in clock ticks, 0 if gone
  local s
  s=$(cat /proc/"$1"/stat 2> /dev/null) || { echo 0; return; }
  s=${s##*) } # from field 3 on (the comm in field 2 may hold spaces): utime is field 14, so $12 here
  awk -v kids="${2:-0}" '{ t = $12 + $13; if (kids) t += $14 + $15; print t }' <<< "$s"
}

tree_ticks() { # PID: its ticks with reaped children, plus those of its live children (journalctl -f)
  local t c
  t=$(proc_ticks "$1" 1)
  for c in $(ps -o pid= --ppid "$1"); do t=$((t + $(proc_ticks "$c" 1))); done
  echo "$t"
}

machine_busy() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }

thread_ticks() { # PID: "tid ticks name voluntary-context-switches involuntary-ones" per thread of PID
  local t
  for t in /proc/"$1"/task/*; do
    # a thread gone since the glob is skipped (a failed read would end the callers: set -e, pipefail)
    awk '{ i = index($0, "("); j = index($0, ") "); name = substr($0, i + 1, j - i - 1);
           split(substr($0, j + 2), f, " "); gsub(/ /, "_", name); printf "%s %d %s", FILENAME, f[12] + f[13], name }' \
      "$t/stat" 2> /dev/null || continue
    awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 }
         END { printf " %d %d\n", v, n }' "$t/status" 2> /dev/null || echo " 0 0"
  done | sed 's|^/proc/[0-9]*/task/\([0-9]*\)/stat|\1|'
}

top_threads() { # BEFORE-FILE AFTER-FILE SECONDS [N=8]: the N busiest threads over the window, in % of one core
  awk -v hz="$HZ" -v secs="$3" 'NR == FNR { b[$1] = $2; next }
    { d = $2 - b[$1]; if (d > 0) printf "%.2f %s\n", d * 100 / hz / secs, $3 }' "$1" "$2" \
    | sort -rn | head -"${4:-8}" | awk '{ printf "%s%s %s%%", sep, $2, $1; sep = ", " } END { print "" }'
}

await_fleetd() { # NSENTER-PID API MACHINE-ID LOG: waits until fleetd's API lists its machine; sets FLEETD_PID (its JVM)
  local nsenter=$1 api=$2 machine=$3 log=$4
  FLEETD_PID=""
  for _ in $(seq 1 600); do
    kill -0 "$nsenter" 2> /dev/null || { tail -20 "$log" >&2; die "fleetd of $machine exited during start-up"; }
    [[ -z "$FLEETD_PID" ]] && FLEETD_PID=$(ps -o pid= --ppid "$nsenter" | awk '{print $1; exit}')
    curl -s --max-time 1 "$api/fleet/v1/machines" 2> /dev/null | grep -q "$machine" && break
    sleep 0.2
  done
  curl -s --max-time 1 "$api/fleet/v1/machines" | grep -q "$machine" \
    || die "the API of fleetd of $machine did not list its machine within 120 s"
  [[ "$(cat /proc/"$FLEETD_PID"/comm)" == java ]] || die "the JVM of fleetd of $machine not found under nsenter $nsenter"
}

submit_sleepers() { # DESCRIPTION: submits bench-sleep@.service through fctl (defined by the caller); instances=UNITS names
  cat > "$WORK/bench-sleep@.service" << UNIT
[Unit]
Description=$1 sleeper %i

[Service]
ExecStart=/bin/sleep infinity
UNIT
  fctl submit "$WORK/bench-sleep@.service" > /dev/null
  local i
  instances=()
  for ((i = 1; i <= UNITS; i++)); do instances+=("bench-sleep@$i.service"); done
}

# jcmd's JVMTI.agent_load splits an agent's options at '=': async-profiler is attached through the JDK's API
attach_helper() { # DIR: compiles Attach into DIR; `java -cp DIR Attach LIBRARY OPTIONS PID...` loads the library into each JVM
  cat > "$1/Attach.java" << 'JAVA'
public class Attach { // LIBRARY OPTIONS PID...: loads the agent library into each JVM with these options
  public static void main(String[] a) throws Exception {
    for (int i = 2; i < a.length; i++) {
      var vm = com.sun.tools.attach.VirtualMachine.attach(a[i]);
      try { vm.loadAgentPath(a[0], a[1]); } finally { vm.detach(); }
    }
  }
}
JAVA
  javac -d "$1" "$1/Attach.java"
}
