#!/bin/sh
# The control experiment: a naive restart that stops the old server first and
# starts the new one afterwards, so the port is closed in between. The harness
# runs it with --strategy naive to show that its zero-downtime gate does fail
# when downtime is real. Same options, events and exit codes as restart.sh;
# a signal after the old server was stopped still lets the new one start.
set -eu

SCRIPT_NAME=naive-restart.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
# shellcheck source=lib/server-process.sh
. "$SCRIPTS_DIR/lib/server-process.sh"
catch_signals

usage() {
  echo 'Usage: naive-restart.sh [--state-dir DIR] [--ready-timeout S] [--stop-timeout S] [-- COMMAND [ARG...]]'
  echo 'Stops the running server, then starts a new one: deliberately not zero-downtime.'
}

parse_options 'state-dir ready-timeout stop-timeout overlap-ms' "$@"
shift "$PARSED"
[ $# -gt 0 ] || set -- node "$SCRIPTS_DIR/../dist/server/main.js"
init_state
require_tools
take_lock

current_server
emit restart_started old_pid="${OLD_PID:-none}"
find_strays
[ -z "$INTERRUPTED" ] || die 130 "interrupted ($INTERRUPTED) before anything changed"
# The point of no return comes early here: once the old server is stopped,
# only finishing the restart brings a server back.
COMMITTED=1
[ -z "$OLD_PID" ] || stop_processes old "$OLD_PID:$OLD_START"
# shellcheck disable=SC2086 # one word per process
[ -z "$STRAYS" ] || stop_processes stray $STRAYS

start_server "$@"
emit new_started pid="$NEW_PID"
if ! wait_ready "$NEW_PID" "$NEW_START"; then
  kill_new "$NEW_PID"
  discard "$PENDING_FILE"
  emit rolled_back pid="$NEW_PID" reason="new server did not become ready"
  die 1 "new server (PID $NEW_PID) did not become ready and the old one is already gone: nothing serves; see $SERVER_LOG"
fi
emit new_ready pid="$NEW_PID"
write_identity "$PID_FILE" "$NEW_PID" "$NEW_START"
discard "$PENDING_FILE"
emit restart_done old_pid="${OLD_PID:-none}" new_pid="$NEW_PID"
[ -z "$INTERRUPTED" ] || die 130 "interrupted ($INTERRUPTED): the restart completed"
