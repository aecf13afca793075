# shellcheck shell=sh
# Shared by the systemd restart scripts (POSIX sh, sourced after
# ../lib/script.sh, whose say, die, emit, clock and options they use). Here
# systemd starts, signals and kills the servers; these helpers only ask it to
# and read back what it did.
#
# Per-unit files, named after the unit (e.g. reuseport-lab@green.service):
#   $UNIT_STATE/UNIT.env    APP_VERSION and --env pairs (the unit's EnvironmentFile)
#   $UNIT_STATE/UNIT.argv   a command to run instead of the server, one
#                           argument per line (read by exec-server.sh)
#   /run/systemd/system/UNIT.d/50-timeouts.conf   TimeoutStartSec and
#                           TimeoutStopSec from --ready-timeout/--stop-timeout

UNIT_STATE=${UNIT_STATE:-/var/lib/reuseport-lab}
SWITCH_LOCK=/run/lock/reuseport-lab-restart.lock
# systemd's unit_process_exit message ("Main process exited, code=..."), see
# systemd's catalog: its EXIT_CODE and EXIT_STATUS fields say how a process ended.
PROCESS_EXIT_MESSAGE=98e322203f7a4ed290d09fe03c09fe15

require_systemd() {
  [ -d /run/systemd/system ] || die 2 "systemd is not running here (no /run/systemd/system); use the image's systemd target"
  command -v systemctl >/dev/null 2>&1 || die 2 "systemctl is missing"
  [ -d "$UNIT_STATE" ] || mkdir -p "$UNIT_STATE" 2>/dev/null || die 2 "cannot create $UNIT_STATE"
}

# take_switch_lock: one restart at a time, whatever its design (flock(1) on a
# file held for the script's life, as restart.sh does).
take_switch_lock() {
  exec 9>>"$SWITCH_LOCK"
  flock -n 9 || { [ -z "$INTERRUPTED" ] || exit 130; die 3 "another restart is in progress; wait for it to finish, then retry"; }
}

# unit_property UNIT PROPERTY: prints the property's value (nothing if
# systemctl failed, e.g. killed by a group signal).
unit_property() { systemctl show -p "$2" --value "$1" 2>/dev/null || :; }

# main_pid UNIT: prints the unit's main PID, or nothing when it has none.
main_pid() {
  main=$(unit_property "$1" MainPID)
  ! is_pid "$main" || printf '%s\n' "$main"
}

# prepare_unit UNIT [COMMAND...]: writes the unit's environment (APP_VERSION
# from ours, plus every --env) and its command (the server unless COMMAND is
# given). Read when systemd starts the unit, so no reload is needed.
prepare_unit() {
  unit=$1
  shift
  {
    { printf 'APP_VERSION=%s\n' "${APP_VERSION:-v1}"; printf '%s' "$EXTRA_ENV"; } >"$UNIT_STATE/$unit.env.tmp" &&
      mv -f "$UNIT_STATE/$unit.env.tmp" "$UNIT_STATE/$unit.env"
  } || die 2 "cannot write $UNIT_STATE/$unit.env"
  if [ $# -eq 0 ]; then
    discard "$UNIT_STATE/$unit.argv"
    return 0
  fi
  for arg in "$@"; do
    case $arg in *'
'*) die 2 "a command argument cannot span lines" ;; esac
  done
  printf '%s\n' "$@" >"$UNIT_STATE/$unit.argv" || die 2 "cannot write $UNIT_STATE/$unit.argv"
}

# set_timeouts UNIT...: gives each unit TimeoutStartSec=READY_TIMEOUT and
# TimeoutStopSec=STOP_TIMEOUT through a runtime drop-in. systemd applies a
# drop-in only after daemon-reload, which takes a moment, so it is reloaded
# only when a value changed. A timeout systemd enforces is the point of these
# designs: the scripts do not kill anything themselves.
set_timeouts() {
  changed=''
  for unit in "$@"; do
    dir=/run/systemd/system/$unit.d
    want="[Service]
TimeoutStartSec=$READY_TIMEOUT
TimeoutStopSec=$STOP_TIMEOUT"
    have=''
    [ ! -f "$dir/50-timeouts.conf" ] || have=$(cat "$dir/50-timeouts.conf" 2>/dev/null) || have=''
    [ "$have" = "$want" ] && continue
    { mkdir -p "$dir" && printf '%s\n' "$want" >"$dir/50-timeouts.conf"; } || die 2 "cannot write $dir/50-timeouts.conf"
    changed=1
  done
  [ -z "$changed" ] || systemctl daemon-reload || die 2 "systemctl daemon-reload failed"
}

# wait_active UNIT: after a start job was queued, follows the unit: emits
# new_started with its main PID once there is one, and returns 0 once systemd
# reports it active (Type=notify: the server sent READY=1), 1 when it failed
# or stopped instead (sets WHY), 3 on a signal while not COMMITTED. systemd's
# TimeoutStartSec ends a server that is not ready in time; the script waits a
# little longer than that for systemd to say so.
wait_active() {
  NEW_PID=''
  clock
  started=$NOW
  while :; do
    [ -z "$INTERRUPTED" ] || [ -n "$COMMITTED" ] || return 3
    if [ -z "$NEW_PID" ]; then
      main=$(main_pid "$1")
      if [ -n "$main" ] && [ "$main" != "${OLD_PID:-}" ]; then
        NEW_PID=$main
        emit new_started pid="$NEW_PID" unit="$1"
      fi
    fi
    state=$(unit_property "$1" ActiveState)
    case $state in
      active) [ -n "$NEW_PID" ] && return 0 ;;
      failed | inactive)
        result=$(unit_property "$1" Result)
        main_status=$(unit_property "$1" ExecMainStatus)
        WHY="systemd reports $1 $state (result: ${result:-?}"
        [ "${main_status:-0}" = 0 ] || WHY="$WHY, status $main_status"
        WHY="$WHY)"
        return 1 ;;
    esac
    since "$started"
    if [ "$ELAPSED" -ge $(((READY_TIMEOUT + 5) * 1000)) ]; then
      WHY="$1 was not active $((READY_TIMEOUT + 5))s after its start"
      return 1
    fi
    pause
  done
}

# how_it_ended UNIT SINCE_S: prints `killed` when systemd's journal says the
# unit's main process died of SIGKILL since SINCE_S (epoch seconds), else
# `exited`. The journal is synced first: systemd logs the exit before it
# finishes the stop job, but journald may not have stored it yet.
how_it_ended() {
  journalctl --sync 2>/dev/null || :
  record=$(journalctl -q --no-pager -o export -u "$1" --since "@$2" MESSAGE_ID="$PROCESS_EXIT_MESSAGE" 2>/dev/null) || record=''
  case $record in
    *"EXIT_CODE=killed"*"EXIT_STATUS=9"* | *"EXIT_STATUS=9"*"EXIT_CODE=killed"*) echo killed ;;
    *) echo exited ;;
  esac
}
