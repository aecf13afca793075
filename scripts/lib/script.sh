# shellcheck shell=sh
# What every restart script is made of (POSIX sh, sourced first): speaking
# (say, die, emit), time (clock, since, sleep_ms), signals (catch_signals and
# the INTERRUPTED/COMMITTED flags) and the one argument parser. Under
# server-process.sh (our own start/stop of servers) and systemd/units.sh
# (systemd's). The caller sets SCRIPT_NAME and defines usage().
#
# How functions hand back what they find: a function prints it when it can
# be called as $(f ...). One that can end the script (die), that changes
# state the caller reads next, or that must survive a Ctrl-C sets a named
# global instead: a group signal kills the subshell of a $(...) as it kills
# any helper, and under `set -e` that would end the script half-way; and a
# die inside $(...) ends only the subshell.

# Set by the signal traps (catch_signals); acted on at safe points only.
INTERRUPTED=''
# Set once the restart has passed its point of no return: from then on a
# signal no longer aborts it, the restart completes and then exits 130.
# shellcheck disable=SC2034 # read by the scripts and libraries that source this file
COMMITTED=''
POLL_INTERVAL=0.05

# say and emit are best effort: a caller that went away (closed pipe, dropped
# ssh session) must not kill a restart half-way.
say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2 2>/dev/null || :; }

# die CODE MESSAGE: says why and exits. A group signal (Ctrl-C) also kills
# this shell's helpers (mkdir, flock), so a helper that failed before any
# server was started (NEW_PID unset) is reported as the interruption it was,
# not as its own misleading error.
die() {
  code=$1
  shift
  if [ -n "$INTERRUPTED" ] && [ -z "${NEW_PID:-}" ] && [ "$code" != 130 ]; then
    say "interrupted ($INTERRUPTED) before anything changed"
    exit 130
  fi
  say "$*"
  exit "$code"
}

# catch_signals: from here on SIGINT, SIGTERM and SIGHUP only set INTERRUPTED
# (the script decides what they mean at its safe points), and a closed stdout
# or stderr makes writes fail instead of killing the script. A group signal
# (Ctrl-C) also hits short helpers such as sleep or date; every such call
# tolerates dying.
catch_signals() {
  trap 'INTERRUPTED=${INTERRUPTED:-INT}' INT
  trap 'INTERRUPTED=${INTERRUPTED:-TERM}' TERM
  trap 'INTERRUPTED=${INTERRUPTED:-HUP}' HUP
  # A caught (not ignored) SIGPIPE is reset for the commands started later.
  trap ': stdout or stderr reader is gone' PIPE
}

# clock: sets NOW to milliseconds since the epoch (GNU date). A global, never
# fatal: if a group signal kills date, NOW keeps its last value.
NOW=0
clock() {
  now=$(date +%s%3N 2>/dev/null) || now=''
  case $now in '' | *[!0-9]*) ;; *) NOW=$now ;; esac
}

# since START_MS: sets ELAPSED to the milliseconds from START_MS to now.
since() { clock; ELAPSED=$((NOW - $1)); }

pause() { sleep "$POLL_INTERVAL" 2>/dev/null || :; }

# sleep_ms MS: a pause of MS milliseconds (0 returns at once), cut short by a
# signal.
sleep_ms() {
  clock
  started=$NOW
  while [ -z "$INTERRUPTED" ] && since "$started" && [ "$ELAPSED" -lt "$1" ]; do pause; done
}

# discard FILE...: removes files; a signal that kills rm changes nothing here.
discard() { rm -f "$@" 2>/dev/null || :; }

# emit EVENT [key=value ...]: one JSON line on stdout for the harness.
# Whole numbers are written as numbers, `none` as null, the rest as strings
# (values come from these scripts, never from outside input).
emit() {
  clock
  line="{\"ts\":$NOW,\"event\":\"$1\""
  shift
  for pair in "$@"; do
    key=${pair%%=*}
    value=${pair#*=}
    case $value in
      none) line="$line,\"$key\":null" ;;
      '' | *[!0-9]*) line="$line,\"$key\":\"$value\"" ;;
      *) line="$line,\"$key\":$value" ;;
    esac
  done
  printf '%s}\n' "$line" 2>/dev/null || :
}

is_pid() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; *) return 0 ;; esac; }
is_count() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

# The options' defaults, overridable from the environment.
READY_TIMEOUT=${READY_TIMEOUT:-10}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
OVERLAP_MS=${OVERLAP_MS:-0}
EXTRA_ENV=''

# parse_options ACCEPTED "$@": the restart scripts' options, one parser for
# all. ACCEPTED names the ones this script takes, of: state-dir,
# ready-timeout, stop-timeout, overlap-ms, env. Sets STATE_DIR,
# READY_TIMEOUT, STOP_TIMEOUT, OVERLAP_MS and EXTRA_ENV (KEY=VALUE lines),
# and PARSED to the number of arguments read, `--` included: a function
# cannot shift its caller's arguments, so the caller shifts them; what
# remains is a command.
# shellcheck disable=SC2034 # the values are read by the scripts that source this file
parse_options() {
  accepted=" $1 "
  shift
  PARSED=0
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) usage; exit 0 ;;
      --) PARSED=$((PARSED + 1)); return 0 ;;
      --state-dir | --ready-timeout | --stop-timeout | --overlap-ms | --env)
        case $accepted in *" ${1#--} "*) ;; *) die 2 "unknown argument '$1'; see --help" ;; esac ;;
      *) die 2 "unknown argument '$1'; see --help" ;;
    esac
    case $1 in
      --state-dir) [ $# -ge 2 ] || die 2 "--state-dir needs a directory"; STATE_DIR=$2 ;;
      --ready-timeout) { [ $# -ge 2 ] && is_pid "$2"; } || die 2 "--ready-timeout needs a whole number of seconds (1 or more)"; READY_TIMEOUT=$2 ;;
      --stop-timeout) { [ $# -ge 2 ] && is_pid "$2"; } || die 2 "--stop-timeout needs a whole number of seconds (1 or more)"; STOP_TIMEOUT=$2 ;;
      --overlap-ms) { [ $# -ge 2 ] && is_count "$2"; } || die 2 "--overlap-ms needs a whole number of milliseconds"; OVERLAP_MS=$2 ;;
      --env)
        [ $# -ge 2 ] || die 2 "--env needs KEY=VALUE"
        case $2 in [A-Za-z_]*=*) ;; *) die 2 "--env needs KEY=VALUE, got '$2'" ;; esac
        case $2 in *'
'*) die 2 "--env values cannot span lines" ;; esac
        EXTRA_ENV="$EXTRA_ENV$2
" ;;
    esac
    shift 2
    PARSED=$((PARSED + 2))
  done
  # The same checks for values from the environment: a bad one found later would stop the script after a server started.
  is_pid "$READY_TIMEOUT" || die 2 "READY_TIMEOUT='$READY_TIMEOUT' is not a whole number of seconds (1 or more)"
  is_pid "$STOP_TIMEOUT" || die 2 "STOP_TIMEOUT='$STOP_TIMEOUT' is not a whole number of seconds (1 or more)"
  is_count "$OVERLAP_MS" || die 2 "OVERLAP_MS='$OVERLAP_MS' is not a whole number of milliseconds"
}
