# Shared by restart.sh, naive-restart.sh and entrypoint.sh (POSIX sh, sourced).
# Knows how to start a server, tell whether a PID still serves, wait for a
# PID's own readiness, and stop a PID within a timeout. Nothing here reads
# input as code: commands run as "$@", values are only compared or printed.

STATE_DIR=${STATE_DIR:-/tmp/reuseport-lab}
READY_TIMEOUT=${READY_TIMEOUT:-10}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
OVERLAP_MS=${OVERLAP_MS:-0}
POLL_INTERVAL=0.05

# init_state: derives the paths from STATE_DIR (after argument parsing) and
# makes sure the directory is there.
init_state() {
  case $STATE_DIR in /*) ;; *) die 2 "STATE_DIR must be an absolute path, got '$STATE_DIR'" ;; esac
  mkdir -p "$STATE_DIR/ready" 2>/dev/null || die 2 "cannot create STATE_DIR $STATE_DIR; set STATE_DIR to a writable directory"
  PID_FILE="$STATE_DIR/server.pid"
  LOCK_DIR="$STATE_DIR/restart.lock"
  SERVER_LOG=${SERVER_LOG:-$STATE_DIR/server.log}
  export STATE_DIR
}

say() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { code=$1; shift; say "$*"; exit "$code"; }

# Milliseconds since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
  ms=$(date +%s%3N 2>/dev/null)
  case $ms in *N | '') echo "$(date +%s)000" ;; *) echo "$ms" ;; esac
}

# emit EVENT [key=value ...]: one JSON line on stdout for the harness.
# Whole numbers are written as numbers, `none` as null, the rest as strings
# (values come from this script, never from outside input).
emit() {
  line="{\"ts\":$(now_ms),\"event\":\"$1\""
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
  printf '%s}\n' "$line"
}

is_pid() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; *) return 0 ;; esac; }

# True while PID runs. A zombie answers kill -0 but serves nothing: its parent
# (init, tini, a test runner) may not have reaped it yet.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
  fi
  return 0
}

is_ready() { [ -f "$STATE_DIR/ready/$1" ]; }

# A PID this project's server owns: alive and holding its own ready marker.
# Anything else named by a PID file (a reused PID) is never signalled.
serving_pid() { pid_alive "$1" && is_ready "$1"; }

# elapsed_ms START_MS
elapsed_ms() { echo $(($(now_ms) - $1)); }

# start_server COMMAND...: runs it in the background, its output appended to
# $SERVER_LOG; sets NEW_PID.
start_server() {
  "$@" >>"$SERVER_LOG" 2>&1 </dev/null &
  NEW_PID=$!
}

# wait_ready PID: 0 once PID wrote its ready marker, 1 if it exited first
# (sets EXIT_CODE), 2 after READY_TIMEOUT seconds.
wait_ready() {
  started=$(now_ms)
  while :; do
    is_ready "$1" && return 0
    if ! pid_alive "$1"; then
      EXIT_CODE=0
      wait "$1" 2>/dev/null || EXIT_CODE=$?
      return 1
    fi
    [ "$(elapsed_ms "$started")" -lt $((READY_TIMEOUT * 1000)) ] || return 2
    sleep "$POLL_INTERVAL"
  done
}

# stop_pid PID: SIGTERM, then up to STOP_TIMEOUT seconds for it to exit, then
# SIGKILL. Emits old_signalled and old_exited or old_killed.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || { emit old_exited pid="$1"; return 0; }
  emit old_signalled pid="$1"
  started=$(now_ms)
  while pid_alive "$1"; do
    if [ "$(elapsed_ms "$started")" -ge $((STOP_TIMEOUT * 1000)) ]; then
      kill -KILL "$1" 2>/dev/null || true
      emit old_killed pid="$1" after_ms="$(elapsed_ms "$started")"
      say "PID $1 did not exit within ${STOP_TIMEOUT}s of SIGTERM; sent SIGKILL"
      return 0
    fi
    sleep "$POLL_INTERVAL"
  done
  emit old_exited pid="$1" after_ms="$(elapsed_ms "$started")"
}

# sleep_ms MS: a pause of MS milliseconds (0 returns at once).
sleep_ms() {
  [ "$1" -gt 0 ] || return 0
  sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

# kill_new PID: ends a new server that failed its start (TERM, then KILL).
kill_new() {
  kill -TERM "$1" 2>/dev/null || return 0
  i=0
  while pid_alive "$1" && [ $i -lt 40 ]; do sleep "$POLL_INTERVAL"; i=$((i + 1)); done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# write_pid_file PID: atomically (temp file, then rename).
write_pid_file() {
  printf '%s\n' "$1" >"$PID_FILE.tmp.$$" && mv -f "$PID_FILE.tmp.$$" "$PID_FILE"
}

# read_pid_file: prints the PID, nothing if the file is missing; exits 2 if
# it is corrupt, because guessing could leave an old server running unseen.
read_pid_file() {
  [ -e "$PID_FILE" ] || return 0
  content=$(head -c 32 "$PID_FILE" | tr -d '\n')
  is_pid "$content" || die 2 "PID file $PID_FILE is corrupt (starts with '$(printf %s "$content" | tr -cd '[:print:]' | cut -c1-16)'); remove it if no server is running, then retry"
  echo "$content"
}

# current_server_pid: prints the PID in the PID file if it is a ready server
# of ours; nothing for a missing or stale file, which means a cold start.
# Exits 2 on a corrupt file.
current_server_pid() {
  pid=$(read_pid_file) || exit $?
  [ -n "$pid" ] || return 0
  if serving_pid "$pid"; then
    echo "$pid"
  else
    say "PID file names $pid, which is not a ready server (gone, or not ours); cold start"
  fi
}

# take_lock: only one restart at a time. The lock is a directory (mkdir is
# atomic) holding the owner's PID; a lock whose owner is gone is stale.
take_lock() {
  if ! mkdir "$LOCK_DIR" 2>/dev/null; then
    owner=$(cat "$LOCK_DIR/pid" 2>/dev/null || true)
    if is_pid "$owner" && pid_alive "$owner"; then
      die 3 "another restart (PID $owner) is in progress; wait for it to finish, then retry"
    fi
    say "removing a stale restart lock (owner ${owner:-unknown} is gone)"
    rm -rf "$LOCK_DIR"
    mkdir "$LOCK_DIR" 2>/dev/null || die 3 "another restart took the lock just now; wait for it to finish, then retry"
  fi
  echo $$ >"$LOCK_DIR/pid"
  trap 'rm -rf "$LOCK_DIR"' EXIT
  trap 'exit 130' INT TERM
}

# parse_common_args "$@": reads --state-dir, --ready-timeout, --stop-timeout
# and an optional `--`, and sets PARSED to the number of arguments consumed.
# The caller shifts them; what remains is the server command.
parse_common_args() {
  PARSED=0
  while [ $# -gt 0 ]; do
    case $1 in
      --state-dir) [ $# -ge 2 ] || die 2 "--state-dir needs a directory"; STATE_DIR=$2; shift 2; PARSED=$((PARSED + 2)) ;;
      --ready-timeout) [ $# -ge 2 ] && is_pid "$2" || die 2 "--ready-timeout needs a whole number of seconds (1 or more)"; READY_TIMEOUT=$2; shift 2; PARSED=$((PARSED + 2)) ;;
      --stop-timeout) [ $# -ge 2 ] && is_pid "$2" || die 2 "--stop-timeout needs a whole number of seconds (1 or more)"; STOP_TIMEOUT=$2; shift 2; PARSED=$((PARSED + 2)) ;;
      --overlap-ms) [ $# -ge 2 ] && { [ "$2" = 0 ] || is_pid "$2"; } || die 2 "--overlap-ms needs a whole number of milliseconds"; OVERLAP_MS=$2; shift 2; PARSED=$((PARSED + 2)) ;;
      -h | --help) usage; exit 0 ;;
      --) PARSED=$((PARSED + 1)); return 0 ;;
      *) die 2 "unknown argument '$1'; see --help" ;;
    esac
  done
}
