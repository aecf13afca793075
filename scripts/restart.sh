#!/bin/sh
# Zero-downtime restart of the reuseport-lab server.
#
# Contract (scripts/restart.test.ts proves each line; 9 and 10 in restart-interrupted.test.ts):
#   1. Only one restart runs at a time: flock(1) on $STATE_DIR/restart.lock,
#      held for the script's life and released by the kernel however it ends.
#      A second restart is refused (exit 3).
#   2. The new server (same command by default, or the one after `--`) is
#      started next to the old one, in a session of its own: a Ctrl-C or a
#      hang-up aimed at the caller never reaches a server. Both bind the port
#      with SO_REUSEPORT.
#   3. A process is its PID *and* its start time (/proc/PID/stat field 22):
#      the PID file, the ready markers and every signal use both, so a reused
#      PID is never signalled and a dead server's marker never counts.
#   4. It waits until *that process* is ready (its own marker
#      $STATE_DIR/ready/<pid>-<start>), up to --ready-timeout seconds. A health
#      check through the shared port could be answered by the old server.
#   5. If the new process exits or is not ready in time, it is killed, the old
#      one keeps serving untouched, and the script exits 1 (rolled back).
#   6. Only then the PID file moves to the new process (atomically): the
#      commit. Both serve for --overlap-ms (default 0), a canary period.
#   7. The old process gets SIGTERM, and the script waits up to --stop-timeout
#      seconds (30, as systemd's TimeoutStopSec) for it to exit, then sends
#      SIGKILL, saying so.
#   8. A missing PID file, or one naming a process that is gone, is another
#      process now, or is not a ready server, means a cold start; nothing
#      it names is signalled.
#   9. SIGINT, SIGTERM or SIGHUP, at any moment: before the commit, the new
#      server is stopped, the old one keeps serving, exit 130; after it, the
#      restart completes (what is left of the overlap is skipped), exit 130.
#      A server answers afterwards, every time.
#  10. Events are best effort, the restart is not: a closed stdout or stderr
#      (the caller went away) does not stop it. Killed outright (SIGKILL), it
#      leaves a server serving and the PID file naming one; the next restart
#      stops any other server of ours it finds (`stray_*` events).
#  11. Each step is one JSON line on stdout with a millisecond timestamp
#      (new_started, new_ready, old_signalled, old_exited, old_killed,
#      rolled_back, ...); people read stderr.
#  12. With --handoff the new server takes the old one's listening socket
#      (SCM_RIGHTS over the old server's $STATE_DIR/handoff/<pid>-<start>.sock,
#      server/handoff.ts) instead of binding the port: one socket, never
#      closed. Lines 1 to 11 hold as they are.
#  13. $STATE_DIR is the caller's alone, since what is in it decides which
#      process gets a signal: by default a private one ($XDG_RUNTIME_DIR/
#      reuseport-lab, /run/reuseport-lab for root, else /tmp/reuseport-lab-UID),
#      created with mode 0700. One that is a symbolic link, belongs to another
#      user or may be written by one, or holds a link where a state file goes,
#      is refused before anything is read or signalled (exit 2).
#
# Exit codes: 0 restarted (or cold-started), 1 rolled back, 2 bad input or
# state, 3 another restart is running, 130 interrupted.
set -eu

SCRIPT_NAME=restart.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
# shellcheck source=lib/server-process.sh
. "$SCRIPTS_DIR/lib/server-process.sh"
catch_signals

usage() {
  cat <<'EOF'
Usage: restart.sh [--handoff] [--state-dir DIR] [--ready-timeout S] [--stop-timeout S] [--overlap-ms MS] [-- COMMAND [ARG...]]

Starts a new server next to the running one, waits until that new PID is
ready, then stops the old one with SIGTERM (SIGKILL after the stop timeout).
If the new server fails to become ready, it is killed and the old one keeps
serving (exit 1).

  --handoff           the new server takes the old one's listening socket
                      instead of binding the port (first flag only)
  --state-dir DIR     PID file, lock and ready markers, a directory of the caller's alone
                      ($STATE_DIR; default $XDG_RUNTIME_DIR/reuseport-lab, /run/reuseport-lab
                      for root, else /tmp/reuseport-lab-UID)
  --ready-timeout S   seconds the new server has to become ready ($READY_TIMEOUT, 10)
  --stop-timeout S    seconds the old server has to drain before SIGKILL ($STOP_TIMEOUT, 30)
  --overlap-ms MS     both servers serve this long before the old one is stopped ($OVERLAP_MS, 0)
  -- COMMAND...       the server to start (default: node <app>/dist/server/main.js)
EOF
}

HANDOFF=''
if [ "${1:-}" = --handoff ]; then
  HANDOFF=1
  shift
fi
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

# Line 12: the old server offers its socket under its own identity.
if [ -n "$HANDOFF" ] && [ -n "$OLD_PID" ]; then
  export HANDOFF_FROM="$STATE_DIR/handoff/$OLD_PID-$OLD_START.sock"
fi
start_server "$@"
emit new_started pid="$NEW_PID"

if wait_ready "$NEW_PID" "$NEW_START"; then
  emit new_ready pid="$NEW_PID"
else
  status=$?
  case $status in
    1) reason="exited with code $EXIT_CODE before it was ready" ;;
    2) reason="not ready within ${READY_TIMEOUT}s" ;;
    *) reason=interrupted ;;
  esac
  kill_new "$NEW_PID"
  discard "$PENDING_FILE"
  emit rolled_back pid="$NEW_PID" reason="$reason"
  if [ "$status" = 3 ]; then
    die 130 "interrupted ($INTERRUPTED): new server (PID $NEW_PID) stopped${OLD_PID:+, PID $OLD_PID keeps serving}"
  fi
  die 1 "new server (PID $NEW_PID) $reason; ${OLD_PID:+PID $OLD_PID keeps serving; }see $SERVER_LOG"
fi

# The commit. From here on the restart completes whatever signal comes in.
write_identity "$PID_FILE" "$NEW_PID" "$NEW_START"
COMMITTED=1
discard "$PENDING_FILE"
if [ -n "$OLD_PID" ]; then
  sleep_ms "$OVERLAP_MS"
  stop_processes old "$OLD_PID:$OLD_START"
fi
if [ -n "$STRAYS" ]; then
  say "stopping servers left by a restart that was killed:$(echo "$STRAYS" | sed 's/:[0-9]*//g')"
  # shellcheck disable=SC2086 # one word per process
  stop_processes stray $STRAYS
fi
emit restart_done old_pid="${OLD_PID:-none}" new_pid="$NEW_PID"
say "PID ${NEW_PID} serves${OLD_PID:+ (replaced $OLD_PID)}"
[ -z "$INTERRUPTED" ] || die 130 "interrupted ($INTERRUPTED) after the commit: the restart completed"
