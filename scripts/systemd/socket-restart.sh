#!/bin/sh
# Socket-activation restart: `systemctl restart reuseport-lab.service`.
# systemd holds the listening socket (reuseport-lab.socket) across the
# restart, so no connection is refused, but it stops the old server before it
# starts the new one: new connections wait in the socket's queue for the old
# server's whole drain plus the new one's start. This script only asks for
# the restart and reports what systemd did, as the restart events
# (harness/strategies/events.ts) on stdout.
#
# There is nothing to roll back to: when the new server fails, the old one is
# already gone and the service is down (exit 4, said on stderr).
# Signals (INT, TERM, HUP) before the restart is queued change nothing
# (exit 130); after it, the script follows the restart to its end, then
# exits 130.
#
# Exit codes: 0 restarted (or started), 2 bad input or no systemd, 3 another
# restart is running, 4 the new server failed and nothing serves, 130
# interrupted.
set -u

SCRIPT_NAME=socket-restart.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=../lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
# shellcheck source=units.sh
. "$SCRIPTS_DIR/systemd/units.sh"
catch_signals

UNIT=reuseport-lab.service

usage() {
  cat <<'USAGE'
Usage: socket-restart.sh [--ready-timeout S] [--stop-timeout S] [--env KEY=VALUE]... [-- COMMAND [ARG...]]

Restarts the socket-activated reuseport-lab.service with systemctl restart
and reports the old server's end and the new one's start. APP_VERSION (from
the environment) and each --env go to the new server; COMMAND replaces it
(fault injection). --overlap-ms is accepted and ignored: nothing overlaps.
USAGE
}

parse_options 'ready-timeout stop-timeout overlap-ms env' "$@"
shift "$PARSED"
require_systemd
take_switch_lock

OLD_PID=$(main_pid "$UNIT")
emit restart_started old_pid="${OLD_PID:-none}" unit="$UNIT"
prepare_unit "$UNIT" "$@"
set_timeouts "$UNIT"
[ -z "$INTERRUPTED" ] || { say "interrupted ($INTERRUPTED) before the restart was queued; nothing changed"; exit 130; }

clock
stop_from=$((NOW / 1000))
# The point of no return: once queued, systemd carries the job out.
COMMITTED=1
systemctl reset-failed "$UNIT" 2>/dev/null || :
[ -z "$OLD_PID" ] || emit old_signalled pid="$OLD_PID" unit="$UNIT"
clock
stopping=$NOW
systemctl restart --no-block "$UNIT" || die 2 "systemctl restart $UNIT failed"

if [ -n "$OLD_PID" ]; then
  # systemd starts the new process only after the old one is gone.
  while kill -0 "$OLD_PID" 2>/dev/null; do
    since "$stopping"
    [ "$ELAPSED" -lt $(((STOP_TIMEOUT + 10) * 1000)) ] || die 2 "PID $OLD_PID still runs $((STOP_TIMEOUT + 10))s after the restart; see journalctl -u $UNIT"
    pause
  done
  since "$stopping"
  gone_after=$ELAPSED
  if [ "$(how_it_ended "$UNIT" "$stop_from")" = killed ]; then
    emit old_killed pid="$OLD_PID" after_ms="$gone_after" by=systemd
    say "PID $OLD_PID did not exit within TimeoutStopSec=${STOP_TIMEOUT}s; systemd sent SIGKILL"
  else
    emit old_exited pid="$OLD_PID" after_ms="$gone_after"
  fi
fi

status=0
wait_active "$UNIT" || status=$?
if [ "$status" -ne 0 ]; then
  say "$WHY; the old server was stopped first, so nothing serves now (see journalctl -u $UNIT)"
  exit 4
fi
emit new_ready pid="$NEW_PID" unit="$UNIT"
emit restart_done pid="$NEW_PID" unit="$UNIT"
[ -z "$INTERRUPTED" ] || exit 130
exit 0
