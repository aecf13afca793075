#!/bin/sh
# Container entrypoint, run under docker-init (tini) as PID 1.
#
#   - cold-starts the first server with restart.sh (the same start logic as
#     every later restart);
#   - streams the servers' log file to the container's stdout (servers started
#     by a `docker exec` of restart.sh cannot write to it directly);
#   - stays alive while a server serves, and exits non-zero if the current
#     server dies outside a restart, so the container's restart policy sees it;
#   - on SIGTERM (docker stop) drains every server of ours and exits 0.
set -eu

SCRIPT_NAME=entrypoint.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
# shellcheck source=lib/server-process.sh
. "$SCRIPTS_DIR/lib/server-process.sh"
init_state
require_tools

# A container restarted by its policy keeps /tmp: forget the old run.
rm -rf "$PID_FILE" "$PENDING_FILE" "$STATE_DIR/ready"
mkdir -p "$STATE_DIR/ready"
: >>"$SERVER_LOG"
tail -n +1 -F "$SERVER_LOG" 2>/dev/null &
TAIL_PID=$!
trap 'kill "$TAIL_PID" 2>/dev/null || :' EXIT
# A SIGTERM is only noted, from the start: one that came during the first
# restart would otherwise kill this shell at once, skipping the EXIT trap, and
# leave the first server undrained and the tail holding the container's output.
# The first restart completes, then stop_all drains what it started.
STOP=''
trap 'STOP=1' TERM INT
# Seconds between two looks at the server (tests look more often).
CHECK_INTERVAL=${CHECK_INTERVAL:-1}

"$SCRIPTS_DIR/restart.sh" "$@" >&2 || die 1 "the first server did not start"

# server_lost: 0 when the server the PID file names is gone and no restart is
# under way, 1 while all is well or a restart holds the state, 2 on a corrupt
# PID file. Read under the state lock that every restart holds for its whole
# life, so a restart finishing between the read and the check cannot look
# like a lost server.
server_lost() {
  (
    flock -n 8 || exit 1
    read_identity "$PID_FILE"
    [ -n "$FILE_PID" ] && same_process "$FILE_PID" "${FILE_START:-0}" && exit 1
    say "server ${FILE_PID:-?} is gone; see the log above"
    exit 0
  ) 8>>"$STATE_LOCK"
}

# stop_all: on `docker stop`, drains every server of ours (the current one,
# and any that an interrupted restart left), then exits 0. docker-init hands
# SIGTERM to this script only: the servers live in sessions of their own.
stop_all() {
  OLD_PID=''
  read_identity "$PID_FILE"
  servers=''
  if [ -n "$FILE_PID" ] && same_process "$FILE_PID" "${FILE_START:-0}"; then servers="$FILE_PID:$START"; OLD_PID=$FILE_PID; fi
  find_strays
  # shellcheck disable=SC2086 # one word per process
  stop_processes stopped $servers $STRAYS >&2
  exit 0
}

while [ -z "$STOP" ]; do
  status=0
  server_lost || status=$?
  [ "$status" = 1 ] || exit 1
  sleep "$CHECK_INTERVAL" &
  wait $! || :
done
stop_all
