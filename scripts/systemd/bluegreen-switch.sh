#!/bin/sh
# Blue/green restart under systemd: two instances of one template unit,
# TEMPLATE@blue and TEMPLATE@green. The colour that is not live is started;
# once systemd reports it active (Type=notify: that server sent READY=1) it
# is recorded as live and the old colour is stopped. systemd sends the old
# server SIGTERM and, after TimeoutStopSec, SIGKILL: this script kills
# nothing itself.
#
#   reuseport-lab         each colour binds the port itself with SO_REUSEPORT
#   reuseport-lab-shared  both colours receive one socket that systemd holds
#                         (reuseport-lab-shared.socket, Sockets=): one accept
#                         queue, no SO_REUSEPORT needed
#
# The live colour is a file ($UNIT_STATE/TEMPLATE.live), replaced by rename:
# the commit point. The seed's symlink plus daemon-reload is not needed for
# that; `systemctl enable` of the live colour is what a reboot reads.
#
# Signals (INT, TERM, HUP) before the commit stop the new colour and leave
# the old one serving (exit 130); after it, the switch completes, then exits
# 130. Events are JSON lines on stdout (harness/strategies/events.ts).
#
# Exit codes: 0 switched (or cold-started), 1 rolled back, 2 bad input or no
# systemd, 3 another restart is running, 130 interrupted.
set -u

SCRIPT_NAME=bluegreen-switch.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
# shellcheck source=../lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
# shellcheck source=units.sh
. "$SCRIPTS_DIR/systemd/units.sh"
catch_signals

usage() {
  cat <<'USAGE'
Usage: bluegreen-switch.sh TEMPLATE [--ready-timeout S] [--stop-timeout S] [--overlap-ms MS] [--env KEY=VALUE]... [-- COMMAND [ARG...]]

Starts the colour of TEMPLATE@.service that is not live, waits until systemd
reports it active, records it as live, then stops the old colour.
APP_VERSION (from the environment) and each --env go to the new colour;
COMMAND replaces the server (fault injection).
USAGE
}

[ $# -ge 1 ] || die 2 "name the template (reuseport-lab or reuseport-lab-shared); see --help"
case $1 in
  -h | --help) usage; exit 0 ;;
  reuseport-lab | reuseport-lab-shared) TEMPLATE=$1 ;;
  *) die 2 "unknown template '$1'; use reuseport-lab or reuseport-lab-shared" ;;
esac
shift
parse_options 'ready-timeout stop-timeout overlap-ms env' "$@"
shift "$PARSED"
require_systemd
take_switch_lock

LIVE_FILE=$UNIT_STATE/$TEMPLATE.live
live=''
{ read -r live <"$LIVE_FILE"; } 2>/dev/null || :
case $live in
  blue) next=green ;;
  green) next=blue ;;
  '') live=''; next=blue ;;
  *) die 2 "$LIVE_FILE names '$live', not blue or green; fix or remove it" ;;
esac
OLD_UNIT=''
OLD_PID=''
if [ -n "$live" ]; then
  OLD_UNIT=$TEMPLATE@$live.service
  OLD_PID=$(main_pid "$OLD_UNIT")
  [ -n "$OLD_PID" ] || say "$OLD_UNIT is recorded as live but has no running process; cold start"
fi
NEW_UNIT=$TEMPLATE@$next.service

emit restart_started old_pid="${OLD_PID:-none}" unit="$NEW_UNIT"
prepare_unit "$NEW_UNIT" "$@"
# shellcheck disable=SC2086 # OLD_UNIT is one word or none
set_timeouts "$NEW_UNIT" $OLD_UNIT
# A colour that failed last time must be reset before it can start again.
systemctl reset-failed "$NEW_UNIT" 2>/dev/null || :
systemctl start --no-block "$NEW_UNIT" || die 2 "systemctl start $NEW_UNIT failed"

status=0
wait_active "$NEW_UNIT" || status=$?
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 3 ] && WHY="interrupted ($INTERRUPTED)"
  systemctl stop "$NEW_UNIT" 2>/dev/null || :
  systemctl reset-failed "$NEW_UNIT" 2>/dev/null || :
  emit rolled_back pid="${NEW_PID:-none}" reason="$WHY"
  say "$WHY; stopped $NEW_UNIT${OLD_PID:+, $OLD_UNIT (PID $OLD_PID) keeps serving}"
  [ "$status" -eq 3 ] && exit 130
  exit 1
fi
emit new_ready pid="$NEW_PID" unit="$NEW_UNIT"

[ -z "$OLD_PID" ] || sleep_ms "$OVERLAP_MS"
[ -z "$INTERRUPTED" ] || [ -z "$OLD_PID" ] || {
  systemctl stop "$NEW_UNIT" 2>/dev/null || :
  emit rolled_back pid="$NEW_PID" reason="interrupted ($INTERRUPTED) during the overlap"
  say "interrupted during the overlap; stopped $NEW_UNIT, $OLD_UNIT keeps serving"
  exit 130
}

# The commit: from here on the switch completes whatever arrives.
COMMITTED=1
{ printf '%s\n' "$next" >"$LIVE_FILE.tmp" && mv -f "$LIVE_FILE.tmp" "$LIVE_FILE"; } || die 2 "cannot write $LIVE_FILE"

if [ -n "$OLD_UNIT" ]; then
  clock
  stop_from=$((NOW / 1000))
  if [ -n "$OLD_PID" ]; then emit old_signalled pid="$OLD_PID" unit="$OLD_UNIT"; fi
  clock
  stopping=$NOW
  systemctl stop "$OLD_UNIT" || say "systemctl stop $OLD_UNIT failed"
  since "$stopping"
  if [ -n "$OLD_PID" ]; then
    if [ "$(how_it_ended "$OLD_UNIT" "$stop_from")" = killed ]; then
      emit old_killed pid="$OLD_PID" after_ms="$ELAPSED" by=systemd
      say "$OLD_UNIT (PID $OLD_PID) did not exit within TimeoutStopSec=${STOP_TIMEOUT}s; systemd sent SIGKILL"
    else
      emit old_exited pid="$OLD_PID" after_ms="$ELAPSED"
    fi
  fi
  systemctl reset-failed "$OLD_UNIT" 2>/dev/null || :
fi
# What a reboot starts: the live colour only. The links on disk are all a boot
# reads, so systemd is not reloaded: the two daemon-reloads they imply cost
# ~0.25 s of CPU together (systemd and its generators) just as the new colour
# took all the load, and on 2 busy cores that pushed switchover latency past
# the budget.
systemctl enable --quiet --no-reload "$NEW_UNIT" 2>/dev/null || say "systemctl enable $NEW_UNIT failed; a reboot may not start it"
[ -z "$OLD_UNIT" ] || systemctl disable --quiet --no-reload "$OLD_UNIT" 2>/dev/null || :

emit restart_done pid="$NEW_PID" unit="$NEW_UNIT"
[ -z "$INTERRUPTED" ] || exit 130
exit 0
