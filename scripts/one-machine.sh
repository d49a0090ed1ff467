#!/usr/bin/env bash
# The main job on one machine: fleetd with its embedded one-member store (kvd in process) and the
# Everything runs on 127.0.0.1 and a temp dir, and stops when the script ends.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-23379}"
RUNTIME="${RUNTIME:-process}"   # RUNTIME=systemd (as root, where systemd is PID 1) drives systemd instead
DATA="$(mktemp -d /tmp/flotilla-one-machine.XXXXXX)"
SOCK="unix://$DATA/fleet.sock"
fctl() { echo "\$ fctl $*"; "$ROOT/bin/fctl" --endpoint "$SOCK" "$@"; echo; }

"$ROOT/bin/fleetd" --embedded-store --data-dir "$DATA" --listen-client-urls "http://127.0.0.1:$PORT" \
  --api-listen "$SOCK" --runtime "$RUNTIME" --machine-id "one-machine" --agent-ttl 10s >"$DATA/fleetd.log" 2>&1 &
FLEETD=$!
# on the way out: stop fleetd (its process runtime stops the unit), keep the script's own status
trap 'rc=$?; kill $FLEETD 2>/dev/null; wait $FLEETD 2>/dev/null || true; rm -rf "$DATA"; exit $rc' EXIT
for _ in $(seq 1 120); do [[ -S "$DATA/fleet.sock" ]] && break; sleep 0.25; done
echo "fleetd is up (store at http://127.0.0.1:$PORT, fleet API at $SOCK, log $DATA/fleetd.log)"; echo

cat >"$DATA/hello.service" <<'UNIT'
[Unit]
Description=Hello from Flotilla

[Service]
ExecStart=/bin/sh -c 'while true; do echo hello from flotilla; sleep 1; done'
UNIT
fctl start "$DATA/hello.service"
fctl list-machines
fctl list-unit-files
fctl list-units
sleep 2
fctl status hello.service
fctl journal --lines 3 hello.service
fctl stop hello.service
fctl list-units
