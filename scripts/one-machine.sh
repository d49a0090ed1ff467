#!/usr/bin/env bash
# The main job on one machine, as far as it exists today: a kvd store member, used through
# the etcd v2 keys API. The agent (fleetd) and the unit started via fctl join this script
# when their issues land. Everything runs on 127.0.0.1 and stops when the script ends.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-23379}"
DATA="$(mktemp -d /tmp/flotilla-one-machine.XXXXXX)"
URL="http://127.0.0.1:${PORT}"

"$ROOT/bin/kvd" --name one --data-dir "$DATA" --listen-client-urls "$URL" >"$DATA/kvd.log" 2>&1 &
KVD=$!
trap 'kill $KVD 2>/dev/null; wait $KVD 2>/dev/null; rm -rf "$DATA"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$URL/health" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "kvd is up at $URL (data in $DATA)"
run() { echo "\$ $*"; "$@"; echo; }
run curl -fsS "$URL/version"
run curl -fsS -X PUT "$URL/v2/keys/flotilla/hello" -d value=world
run curl -fsS "$URL/v2/keys/flotilla?recursive=true"
echo "\$ curl -fsS -X PUT $URL/v2/keys/flotilla/ephemeral -d value=soon-gone -d ttl=2"
SET=$(curl -fsS -X PUT "$URL/v2/keys/flotilla/ephemeral" -d value=soon-gone -d ttl=2)
echo "$SET"; echo
INDEX=$(echo "$SET" | sed -n 's/.*"modifiedIndex":\([0-9]*\).*/\1/p')
echo "(waiting for the TTL to run out: the next event after index $INDEX)"
run curl -fsS "$URL/v2/keys/flotilla/ephemeral?wait=true&waitIndex=$((INDEX + 1))"
run curl -fsS "$URL/v2/members"
if command -v etcdctl >/dev/null; then
  echo "etcdctl (v2) against kvd:"
  ETCDCTL_API=2 etcdctl --endpoints "$URL" ls --recursive /flotilla
  echo "etcdctl (v3, gRPC on the same port) against kvd:"
  ETCDCTL_API=3 etcdctl --endpoints "$URL" put /greeting hello
  ETCDCTL_API=3 etcdctl --endpoints "$URL" get /greeting
  ETCDCTL_API=3 etcdctl --endpoints "$URL" endpoint status -w table
fi
echo "fleetd and fctl are not implemented yet; see: issues list"
