#!/bin/sh
# Runs COMMAND in a new network namespace of its own, with loopback up and
# net.ipv4.tcp_migrate_req=1. The setting is per namespace: the host's own
# value is never touched. Without it, closing a SO_REUSEPORT listener resets
# the connections still queued in its accept queue instead of handing them to
# the other listener (Linux >= 5.14).
#
# Usage: scripts/netns-run.sh COMMAND [ARG...]
# Needs root (CAP_SYS_ADMIN) and unshare(1). Exits 97 when the namespace
# cannot be made, before COMMAND runs, so a caller can fall back.
set -eu

[ $# -gt 0 ] || { echo 'usage: netns-run.sh COMMAND [ARG...]' >&2; exit 2; }

if [ "${NETNS_RUN_INSIDE:-}" != 1 ]; then
  command -v unshare >/dev/null 2>&1 || { echo 'netns-run: unshare(1) not found (util-linux)' >&2; exit 97; }
  unshare --net true 2>/dev/null || { echo 'netns-run: cannot create a network namespace (needs root)' >&2; exit 97; }
  NETNS_RUN_INSIDE=1 exec unshare --net -- "$0" "$@"
fi
unset NETNS_RUN_INSIDE

ip link set lo up 2>/dev/null || { echo 'netns-run: cannot bring up loopback (ip from iproute2 needed)' >&2; exit 97; }
echo 1 >/proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null ||
  { echo 'netns-run: cannot set net.ipv4.tcp_migrate_req (kernel older than 5.14?)' >&2; exit 97; }
export REUSEPORT_LAB_NETNS=1
exec "$@"
