#!/usr/bin/env bash
# etcd v2 keys API throughput: real etcd against kvd, same load generator, same machine.
#
#   bench/run-v2.sh [--only etcd|kvd] [--members 1|3|5] [--rounds N] [--duration 10s] [--warmup 2s]
#                   [--connections 64] [--keys 1000] [--value-size 256] [--workloads put,get,qget]
#                   [--wait-quiet 30] [--retries 2] [--tls] [--out DIR]
#
# Starts an etcd cluster (--enable-v2=true) and a kvd cluster of --members members each (default 1)
# on free 127.0.0.1 ports with temporary data dirs; the load goes to each cluster's leader. Runs
# each workload on each system in alternation (etcd put, kvd put,
# etcd get, kvd get, ...; all of that --rounds times), prints a markdown table, and kills both
# servers on exit. On a shared machine each run first waits up to --wait-quiet seconds for a calm
# CPU, and a run during which other processes used over 0.2 cores is redone, up to --retries times.
# --tls: both systems serve https client and peer URLs with certificates made for the run (openssl:
# a CA, a server and a client certificate, EC P-256, in the work dir), client certificates
# required on both (--client-cert-auth, --peer-client-cert-auth); the load presents the client one.
# Build first: (cd "$(git rev-parse --show-toplevel)" && mvn -q -DskipTests package)
# Env: ETCD (default: etcd on PATH), KVD (default: bin/kvd of this repo).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
ETCD=${ETCD:-etcd}
KVD=${KVD:-$ROOT/bin/kvd}

systems=(etcd kvd)
members=1
rounds=1
duration=10s
warmup=2s
connections=64
keys=1000
value_size=256
workloads=put,get,qget
wait_quiet=30
retries=2
out=""
tls=0

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "run-v2.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) [[ "${2:-}" == etcd || "${2:-}" == kvd ]] || die "--only takes etcd or kvd, got '${2:-}'"
            systems=("$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --value-size) value_size=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --wait-quiet) wait_quiet=$2; shift 2 ;;
    --retries) retries=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$members" =~ ^[1-9]$ ]] || die "--members must be 1 to 9, got '$members'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, got '$rounds'"
[[ "$wait_quiet" =~ ^[0-9]+$ ]] || die "--wait-quiet must be seconds (0 = do not wait), got '$wait_quiet'"
[[ "$retries" =~ ^[0-9]+$ ]] || die "--retries must be a count, got '$retries'"
IFS=, read -r -a workload_list <<< "$workloads"
for w in "${workload_list[@]}"; do
  [[ "$w" == put || "$w" == get || "$w" == qget ]] || die "unknown workload '$w'; use put, get, qget"
done

[[ -f "$BENCH/target/bench.jar" ]] \
  || die "$BENCH/target/bench.jar is missing; build with: (cd $ROOT && mvn -q -DskipTests package)"
for s in "${systems[@]}"; do
  case "$s" in
    etcd) command -v "$ETCD" > /dev/null || die "etcd not found (ETCD=$ETCD); install etcd-server or set ETCD" ;;
    kvd) [[ -x "$KVD" ]] || die "kvd launcher $KVD is missing; use --only etcd until kvd exists" ;;
  esac
done
command -v curl > /dev/null || die "curl is needed to wait for the servers; apt-get install curl"
((tls == 0)) || command -v openssl > /dev/null || die "--tls needs openssl to make the certificates; apt-get install openssl"

work=${out:-$(mktemp -d /tmp/flotilla-v2bench.XXXXXX)}
mkdir -p "$work"
results="$work/results.jsonl"
: > "$results"

scheme=http
tls_server_args=()
tls_client_args=()
curl_tls=()
if ((tls)); then
  # certificates for this run only, never kept: a CA, then server and client certificates it signs
  d="$work/tls"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench-ca" \
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2> /dev/null
  for n in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=bench-$n" \
      -keyout "$d/$n-key.pem" -out "$d/$n.csr" 2> /dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 2 \
      -extfile "$d/$n.ext" -out "$d/$n.pem" 2> /dev/null
  done
  scheme=https
  tls_server_args=(--cert-file "$d/server.pem" --key-file "$d/server-key.pem" --trusted-ca-file "$d/ca.pem"
    --client-cert-auth --peer-cert-file "$d/server.pem" --peer-key-file "$d/server-key.pem"
    --peer-trusted-ca-file "$d/ca.pem" --peer-client-cert-auth)
  tls_client_args=(--cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client-key.pem")
  curl_tls=(--cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client-key.pem")
fi

declare -A pid port
load_pid=""
cleanup() {
  local s
  [[ -z "$load_pid" ]] || kill "$load_pid" 2> /dev/null || true
  local p
  for s in "${!pid[@]}"; do
    for p in ${pid[$s]//,/ }; do kill "$p" 2> /dev/null || true; done
  done
  for s in "${!pid[@]}"; do
    for p in ${pid[$s]//,/ }; do
      # give each server 5 s to stop, then force it
      for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
      kill -9 "$p" 2> /dev/null || true
    done
  done
  rm -rf "$work/data-etcd" "$work/data-kvd" "$work/tls"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sets FREE_PORT to a random port that nothing on this machine uses (listening or connected) and
# that this script has not handed out before.
taken=" "
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    [[ "$taken" == *" $p "* ]] && continue
    if command -v ss > /dev/null; then
      [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ]] || continue
    elif (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
      continue
    fi
    taken+="$p "
    FREE_PORT=$p
    return
  done
  die "found no free port on 127.0.0.1"
}

# Whether every process of system $1 runs.
alive() {
  local p
  for p in ${pid[$1]//,/ }; do kill -0 "$p" 2> /dev/null || return 1; done
}

# etcd and kvd take the same flags; each member gets a fresh data dir and its own ports.
# pid[$s] is the comma-separated list of the cluster's pids; port[$s] the leader's client port.
start_server() {
  local s=$1 bin i cluster="" code deadline
  local -a clients peers
  case "$s" in etcd) bin=$ETCD ;; kvd) bin=$KVD ;; esac
  for ((i = 1; i <= members; i++)); do
    free_port; clients[i]=$FREE_PORT
    free_port; peers[i]=$FREE_PORT
    cluster+="${cluster:+,}bench-$s-$i=$scheme://127.0.0.1:${peers[i]}"
  done
  pid[$s]=""
  for ((i = 1; i <= members; i++)); do
    mkdir -p "$work/data-$s/$i"
    local args=(--name "bench-$s-$i" --data-dir "$work/data-$s/$i"
      --listen-client-urls "$scheme://127.0.0.1:${clients[i]}" --advertise-client-urls "$scheme://127.0.0.1:${clients[i]}"
      --listen-peer-urls "$scheme://127.0.0.1:${peers[i]}" --initial-advertise-peer-urls "$scheme://127.0.0.1:${peers[i]}"
      --initial-cluster "$cluster" --initial-cluster-token "bench-$s" ${tls_server_args[@]+"${tls_server_args[@]}"})
    [[ "$s" == etcd ]] && args+=(--enable-v2=true --log-level warn)
    "$bin" "${args[@]}" > "$work/$s-$i.log" 2>&1 &
    pid[$s]+="${pid[$s]:+,}$!"
  done
  # Ready when every member answers HTTP on the v2 keys root and a leader is known.
  deadline=$((SECONDS + 60))
  for ((i = 1; i <= members; i++)); do
    while :; do
      alive "$s" || { tail -20 "$work/$s-$i.log" >&2; die "$s exited during start-up (logs: $work/$s-*.log)"; }
      code=$(curl -s ${curl_tls[@]+"${curl_tls[@]}"} -o /dev/null -w '%{http_code}' --max-time 1 \
        "$scheme://127.0.0.1:${clients[i]}/v2/keys/" || true)
      [[ "$code" != 000 ]] && break
      ((SECONDS < deadline)) || die "$s member $i did not answer on 127.0.0.1:${clients[i]} within 60 s (log: $work/$s-$i.log)"
      sleep 0.2
    done
  done
  local leader_url=""
  while [[ -z "$leader_url" ]]; do
    leader_url=$(curl -s ${curl_tls[@]+"${curl_tls[@]}"} --max-time 1 "$scheme://127.0.0.1:${clients[1]}/v2/members/leader" \
      | grep -o '"clientURLs":\["[^"]*' | cut -d'"' -f4 || true)
    ((SECONDS < deadline)) || die "$s elected no leader within 60 s (logs: $work/$s-*.log)"
    [[ -n "$leader_url" ]] || sleep 0.2
  done
  port[$s]=${leader_url##*:}
  if ((members == 1)) && command -v ss > /dev/null && ! ss -Hltnp "sport = :${port[$s]}" | grep -q "pid=${pid[$s]},"; then
    die "127.0.0.1:${port[$s]} answers, but not from $s (pid ${pid[$s]}); another process took the port"
  fi
  echo "started $s ($members member(s), pids ${pid[$s]}); load goes to the leader at $leader_url, logs $work/$s-*.log"
}

# Share of the machine's CPU used during one second (with the servers idle: other load).
busy_percent() {
  local a b
  read -r -a a < /proc/stat
  sleep 1
  read -r -a b < /proc/stat
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# Waits up to --wait-quiet seconds for two seconds in a row with under 10% CPU in use.
wait_for_quiet() {
  local calm=0 end=$((SECONDS + wait_quiet))
  while ((SECONDS < end)); do
    if (($(busy_percent) < 10)); then
      calm=$((calm + 1))
      ((calm < 2)) || return 0
    else
      calm=0
    fi
  done
  return 1
}

echo "# v2 bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1)"
for s in "${systems[@]}"; do
  case "$s" in
    etcd) echo "etcd: $("$ETCD" --version | head -1)" ;;
    kvd) echo "kvd: $(git -C "$ROOT" describe --always --dirty 2> /dev/null || echo unknown)" ;;
  esac
done
echo "cluster: $members member(s) per system$( ((tls)) && echo ", TLS on client and peer URLs (client certificates required)")"
echo "load: --connections $connections --duration $duration --warmup $warmup --keys $keys --value-size $value_size, rounds $rounds"

busy=$(busy_percent)
if ((busy > 20)); then
  echo "WARNING: other processes use ${busy}% of the CPU before the run; the numbers will be noisy" >&2
fi

for s in "${systems[@]}"; do start_server "$s"; done

status=0
for ((round = 1; round <= rounds; round++)); do
  for w in "${workload_list[@]}"; do
    for s in "${systems[@]}"; do
      for ((attempt = 0; ; attempt++)); do
        alive "$s" || die "$s (pids ${pid[$s]}) has died (logs: $work/$s-*.log)"
        if ((wait_quiet > 0)) && ! wait_for_quiet; then
          echo "$s $w: the machine stayed busy for ${wait_quiet}s; running anyway" >&2
        fi
        log="$work/run-$round-$s-$w.out"
        rc=0
        # in the background and waited for, so that a signal reaches the traps at once
        "$BENCH/run-load.sh" --url "$scheme://127.0.0.1:${port[$s]}" --label "$s" --server-pid "${pid[$s]}" \
          ${tls_client_args[@]+"${tls_client_args[@]}"} \
          --workload "$w" --connections "$connections" --duration "$duration" --warmup "$warmup" \
          --keys "$keys" --value-size "$value_size" > "$log" 2> "$log.err" &
        load_pid=$!
        wait "$load_pid" || rc=$?
        load_pid=""
        other=$(grep -o '"other":[-0-9.]*' "$log" | cut -d: -f2 || true)
        if ((attempt < retries)) && awk -v o="${other:--1}" 'BEGIN { exit !(o > 0.2) }'; then
          echo "$s $w: other processes used $other cores during the run; running it again" >&2
          continue
        fi
        break
      done
      if [[ $rc -eq 0 || $rc -eq 3 ]]; then
        grep -m1 ' req/s ' "$log" || true
        grep '^{' "$log" >> "$results"
        if [[ $rc -eq 3 && $status -eq 0 ]]; then status=3; fi
      else
        why=$(grep -v '^[0-9:. ]*\(WARN\|INFO\|DEBUG\)' "$log.err" | head -1 | tr -d '"\\' || true)
        echo "$s $w: could not run (exit $rc): $why" >&2
        printf '{"system":"%s","workload":"%s","failed":"exit %s: %s"}\n' "$s" "$w" "$rc" "$why" >> "$results"
        status=1
      fi
    done
  done
done

echo
BENCH_MAIN=dev.flotilla.bench.ResultsTable "$BENCH/run-load.sh" "$results" | tee "$work/table.md"
echo
echo "raw results: $results"
[[ $status -eq 0 ]] || echo "NOTE: some runs had errors, non-2xx responses or could not run (errors column)" >&2
exit $status
