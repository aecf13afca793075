#!/bin/sh
# Zero-downtime restart of the reuseport-lab server.
#
# Contract (scripts/restart.test.ts proves each line):
#   1. Only one restart runs at a time; a second one is refused (exit 3).
#   2. The new server (same command by default, or the one after `--`) is
#      started next to the old one; both bind the port with SO_REUSEPORT.
#   3. It waits until *that PID* is ready (its own marker in
#      $STATE_DIR/ready/<pid>), up to --ready-timeout seconds. A health check
#      through the shared port could be answered by the old server.
#   4. If the new process exits or is not ready in time, it is killed, the old
#      one keeps serving untouched, and the script exits 1 (rolled back).
#   5. Only then the PID file moves to the new PID (atomically). Both serve
#      for --overlap-ms (default 0), a canary period that can be seen.
#   6. The old PID gets SIGTERM, and the script waits up to --stop-timeout
#      seconds (30, as systemd's TimeoutStopSec) for it to exit, then sends
#      SIGKILL, saying so.
#   7. A missing PID file, or one naming a process that is not a ready server
#      (a stale file after a crash or reboot), means a cold start.
#   8. Each step is one JSON line on stdout with a millisecond timestamp
#      (new_started, new_ready, old_signalled, old_exited, old_killed,
#      rolled_back, ...); people read stderr.
#   9. Interrupted (SIGINT/SIGTERM) before the PID file moved, it kills the
#      new server and exits 130, the old one serving; interrupted after, it
#      still finishes stopping the old one, then exits 130.
#
# Exit codes: 0 restarted (or cold-started), 1 rolled back, 2 bad input or
# state, 3 another restart is running, 130 interrupted.
set -eu

SCRIPT_NAME=restart.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
. "$SCRIPTS_DIR/lib/server-process.sh"

usage() {
  cat <<'EOF'
Usage: restart.sh [--state-dir DIR] [--ready-timeout S] [--stop-timeout S] [--overlap-ms MS] [-- COMMAND [ARG...]]

Starts a new server next to the running one, waits until that new PID is
ready, then stops the old one with SIGTERM (SIGKILL after the stop timeout).
If the new server fails to become ready, it is killed and the old one keeps
serving (exit 1).

  --state-dir DIR     PID file, lock and ready markers ($STATE_DIR, /tmp/reuseport-lab)
  --ready-timeout S   seconds the new server has to become ready ($READY_TIMEOUT, 10)
  --stop-timeout S    seconds the old server has to drain before SIGKILL ($STOP_TIMEOUT, 30)
  --overlap-ms MS     both servers serve this long before the old one is stopped ($OVERLAP_MS, 0)
  -- COMMAND...       the server to start (default: node <app>/dist/server/main.js)
EOF
}

parse_common_args "$@"
shift "$PARSED"
[ $# -gt 0 ] || set -- node "$SCRIPTS_DIR/../dist/server/main.js"
init_state
take_lock

OLD_PID=$(current_server_pid)
emit restart_started old_pid="${OLD_PID:-none}"

start_server "$@"
emit new_started pid="$NEW_PID"
trap 'kill_new "$NEW_PID"; emit rolled_back pid="$NEW_PID" reason=interrupted; say "interrupted: new server (PID $NEW_PID) stopped${OLD_PID:+, PID $OLD_PID keeps serving}"; exit 130' INT TERM

if wait_ready "$NEW_PID"; then
  emit new_ready pid="$NEW_PID"
else
  status=$?
  if [ "$status" = 1 ]; then
    reason="exited with code $EXIT_CODE before it was ready"
  else
    reason="not ready within ${READY_TIMEOUT}s"
    kill_new "$NEW_PID"
  fi
  emit rolled_back pid="$NEW_PID" reason="$reason"
  say "new server (PID $NEW_PID) $reason; ${OLD_PID:+PID $OLD_PID keeps serving; }see $SERVER_LOG"
  exit 1
fi

write_pid_file "$NEW_PID"
INTERRUPTED=''
trap 'INTERRUPTED=1' INT TERM
if [ -n "$OLD_PID" ]; then
  sleep_ms "$OVERLAP_MS"
  stop_pid "$OLD_PID"
fi
emit restart_done old_pid="${OLD_PID:-none}" new_pid="$NEW_PID"
say "PID ${NEW_PID} serves${OLD_PID:+ (replaced $OLD_PID)}"
[ -z "$INTERRUPTED" ] || exit 130
