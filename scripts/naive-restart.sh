#!/bin/sh
# The control experiment: a naive restart that stops the old server first and
# starts the new one afterwards, so the port is closed in between. The harness
# runs it with --strategy naive to show that its zero-downtime gate does fail
# when downtime is real. Same options, events and exit codes as restart.sh.
set -eu

SCRIPT_NAME=naive-restart.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
. "$SCRIPTS_DIR/lib/server-process.sh"

usage() {
  echo 'Usage: naive-restart.sh [--state-dir DIR] [--ready-timeout S] [--stop-timeout S] [-- COMMAND [ARG...]]'
  echo 'Stops the running server, then starts a new one: deliberately not zero-downtime.'
}

parse_common_args "$@"
shift "$PARSED"
[ $# -gt 0 ] || set -- node "$SCRIPTS_DIR/../dist/server/main.js"
init_state
take_lock

OLD_PID=$(current_server_pid)
emit restart_started old_pid="${OLD_PID:-none}"
[ -z "$OLD_PID" ] || stop_pid "$OLD_PID"

start_server "$@"
emit new_started pid="$NEW_PID"
if ! wait_ready "$NEW_PID"; then
  kill_new "$NEW_PID"
  emit rolled_back pid="$NEW_PID" reason="new server did not become ready"
  die 1 "new server (PID $NEW_PID) did not become ready and the old one is already gone: nothing serves; see $SERVER_LOG"
fi
emit new_ready pid="$NEW_PID"
write_pid_file "$NEW_PID"
emit restart_done old_pid="${OLD_PID:-none}" new_pid="$NEW_PID"
