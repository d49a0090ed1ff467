#!/usr/bin/env bash
# Boots a throwaway systemd host: systemd as PID 1 of its own PID+mount+UTS namespace with a
# private /run and /tmp, booting a private target (sysinit only) with the units that would touch
# the shared machine masked. The same recipe as agent/.../systemd/SystemdHost.java (read it for
# why). Sourced by agent-load.sh, or run alone for a look around:
#
#   bench/systemd-host.sh NAME        # boots, prints the host's PID 1 (as seen outside), then waits;
#                                     # Ctrl-C or SIGTERM kills the host
#
# As a library: `source bench/systemd-host.sh; host_boot NAME LOGFILE` sets HOST_PID (systemd's PID
# outside) and HOST_UNSHARE_PID; `host_exec CMD...` runs inside; `host_kill` SIGKILLs PID 1.
# Needs root, unshare, nsenter and /lib/systemd/systemd.

HOST_BOOT_TARGET=flotilla-test-host.target
HOST_MASKED="systemd-sysusers.service systemd-sysctl.service systemd-binfmt.service
  systemd-modules-load.service systemd-remount-fs.service systemd-tmpfiles-setup-dev.service
  kmod-static-nodes.service systemd-random-seed.service systemd-update-utmp.service
  systemd-firstboot.service systemd-machine-id-commit.service systemd-repart.service
  systemd-pstore.service systemd-timesyncd.service systemd-hwdb-update.service
  systemd-udev-trigger.service systemd-udevd.service ldconfig.service
  systemd-journal-catalog-update.service systemd-update-done.service modprobe@.service"

# shellcheck disable=SC2016 # expanded inside the namespace, by the sh that becomes systemd
HOST_BOOT_SCRIPT='set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/systemd/system/systemd-tmpfiles-setup.service.d /run/systemd/journald.conf.d
printf "[Unit]\nDescription=Flotilla test host\nRequires=sysinit.target\nAfter=sysinit.target\nAllowIsolate=yes\n" > /run/systemd/system/'"$HOST_BOOT_TARGET"'
printf "[Journal]\nStorage=volatile\n" > /run/systemd/journald.conf.d/flotilla-test-host.conf
printf "[Service]\nExecStart=\nExecStart=systemd-tmpfiles --create --remove --boot --prefix=/run --prefix=/tmp\n" > /run/systemd/system/systemd-tmpfiles-setup.service.d/flotilla-test-host.conf
for unit in $2; do ln -s /dev/null /run/systemd/system/$unit; done
if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi
hostname "$1"
printf "%s\n" "$1" > /run/flotilla-hostname
if [ -f /etc/hostname ]; then mount --bind /run/flotilla-hostname /etc/hostname; fi
exec /lib/systemd/systemd --system --unit='"$HOST_BOOT_TARGET"

host_boot() { # NAME LOGFILE
  local name=$1 logfile=$2 i
  HOST_PID=""
  unshare --pid --fork --kill-child=SIGKILL --mount --propagation private --uts --mount-proc \
    sh -c "$HOST_BOOT_SCRIPT" sh "$name" "$(echo $HOST_MASKED)" </dev/null >"$logfile" 2>&1 &
  HOST_UNSHARE_PID=$!
  for i in $(seq 1 3000); do
    local child
    child=$(cat /proc/"$HOST_UNSHARE_PID"/task/"$HOST_UNSHARE_PID"/children 2>/dev/null | awk '{print $1}')
    if [ -n "$child" ] && [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ]; then
      HOST_PID=$child
      break
    fi
    kill -0 "$HOST_UNSHARE_PID" 2>/dev/null || { echo "unshare exited before systemd started: $(cat "$logfile")" >&2; return 1; }
    sleep 0.02
  done
  [ -n "$HOST_PID" ] || { echo "systemd did not start within 60 s: $(cat "$logfile")" >&2; return 1; }
  local state=""
  for i in $(seq 1 600); do
    state=$(host_exec systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) return 0 ;; esac
    sleep 0.1
  done
  echo "systemd host $name (PID $HOST_PID) did not come up within 60 s: is-system-running said '$state'" >&2
  return 1
}

host_exec() {
  nsenter -t "$HOST_PID" -a "$@"
}

host_kill() {
  # PID 1 ignores signals it has no handler for from inside, not SIGKILL from outside; its death
  # ends everything in the namespace, then unshare exits.
  if [ -n "${HOST_PID:-}" ]; then
    kill -KILL "$HOST_PID" 2>/dev/null || true
  fi
  if [ -n "${HOST_UNSHARE_PID:-}" ]; then
    local i
    for i in $(seq 1 200); do
      kill -0 "$HOST_UNSHARE_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$HOST_UNSHARE_PID" 2>/dev/null || true
    wait "$HOST_UNSHARE_PID" 2>/dev/null || true
  fi
  HOST_PID=""
  HOST_UNSHARE_PID=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  name=${1:-flotilla-bench-host}
  log=$(mktemp /tmp/systemd-host-"$name"-XXXXXX.log)
  trap 'host_kill; rm -f "$log"' EXIT
  trap 'exit 130' INT TERM
  host_boot "$name" "$log"
  echo "$HOST_PID"
  while kill -0 "$HOST_PID" 2>/dev/null; do sleep 1; done
fi
