#!/bin/sh
# Container entrypoint, run under docker-init (tini) as PID 1.
#
#   - cold-starts the first server with restart.sh (the same start logic as
#     every later restart);
#   - streams the servers' log file to the container's stdout (servers started
#     by a `docker exec` of restart.sh cannot write to it directly);
#   - stays alive while a server serves, and exits non-zero if the current
#     server dies outside a restart, so the container's restart policy sees it;
#   - on SIGTERM (docker stop) drains the current server and exits 0.
set -eu

SCRIPT_NAME=entrypoint.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
. "$SCRIPTS_DIR/lib/server-process.sh"
init_state

# A container restarted by its policy keeps /tmp: forget the old run.
rm -rf "$PID_FILE" "$LOCK_DIR" "$STATE_DIR/ready"
mkdir -p "$STATE_DIR/ready"
: >>"$SERVER_LOG"
tail -n +1 -F "$SERVER_LOG" 2>/dev/null &
TAIL_PID=$!

"$SCRIPTS_DIR/restart.sh" "$@" >&2 || die 1 "the first server did not start"

stop_current() {
  pid=$(read_pid_file)
  if [ -n "$pid" ] && pid_alive "$pid"; then stop_pid "$pid" >&2; fi
  kill "$TAIL_PID" 2>/dev/null || true
  exit 0
}
trap stop_current TERM INT

while :; do
  pid=$(read_pid_file)
  if [ -z "$pid" ] || ! pid_alive "$pid"; then
    # Between "PID file moved" and "old stopped" a restart owns the lock.
    [ -d "$LOCK_DIR" ] || die 1 "server ${pid:-?} is gone; see the log above"
  fi
  sleep 1 &
  wait $! || true
done
