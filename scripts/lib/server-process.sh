# shellcheck shell=sh
# Shared by restart.sh, naive-restart.sh and entrypoint.sh (POSIX sh, sourced
# after script.sh, whose say, die, emit, clock and signal flags it uses).
# Knows how to start a server outside the caller's session, tell a process by
# its identity (PID and start time), wait for that process's own readiness,
# and stop processes within a timeout. Nothing here reads input as code:
# commands run as "$@", values are only compared or printed.
#
# Identity: a process is "PID START", START being field 22 of /proc/PID/stat
# (clock ticks since boot). A PID can be reused once its process is reaped;
# PID and start time together cannot. The PID file, the ready markers
# (ready/PID-START) and every signal use the identity, so a reused PID is
# never signalled and a dead server's marker never counts as ready. Without
# /proc (not Linux) START is 0 and a process is assumed to be the one its PID
# named: a reused PID cannot be told apart there.
#
# Every function here hands back what it finds in named globals (START,
# NEW_PID, EXIT_CODE, FILE_PID, OLD_PID, STRAYS, ...), as script.sh explains:
# each either starts or reaps this shell's own children, may end the script
# on bad state, or must not be cut short by a Ctrl-C.

# The state directory is private to whoever runs the scripts: a marker planted
# there decides which process a restart signals, and a link planted there is
# written through. By default: $XDG_RUNTIME_DIR/reuseport-lab, /run/reuseport-lab
# for root, else /tmp/reuseport-lab-UID (server/config.ts picks the same).
if [ -z "${STATE_DIR:-}" ]; then
  if [ -n "${XDG_RUNTIME_DIR:-}" ]; then
    STATE_DIR=$XDG_RUNTIME_DIR/reuseport-lab
  elif [ "$(id -u)" = 0 ]; then
    STATE_DIR=/run/reuseport-lab
  else
    STATE_DIR=/tmp/reuseport-lab-$(id -u)
  fi
fi
# How long a server that failed its start gets between SIGTERM and SIGKILL.
KILL_NEW_GRACE_MS=2000

# init_state: derives the paths from STATE_DIR (after argument parsing) and
# makes sure the directory is there and the caller's alone: created with mode
# 0700; refused, in one line, when it is a symbolic link, belongs to another
# user, or another user may write in it, or when one of its files is a link.
init_state() {
  case $STATE_DIR in /*) ;; *) die 2 "STATE_DIR must be an absolute path, got '$STATE_DIR'" ;; esac
  if [ ! -e "$STATE_DIR" ] && [ ! -L "$STATE_DIR" ]; then
    (umask 077 && mkdir -p "$STATE_DIR") 2>/dev/null || die 2 "cannot create STATE_DIR $STATE_DIR; set STATE_DIR to a writable directory"
  fi
  check_private_dir "$STATE_DIR"
  [ -d "$STATE_DIR/ready" ] || mkdir -p "$STATE_DIR/ready" 2>/dev/null || die 2 "cannot create STATE_DIR $STATE_DIR; set STATE_DIR to a writable directory"
  PID_FILE="$STATE_DIR/server.pid"
  # A started server that no restart has committed or rolled back yet: left
  # behind only when a restart was killed outright (SIGKILL).
  PENDING_FILE="$STATE_DIR/pending.pid"
  RESTART_LOCK="$STATE_DIR/restart.lock"
  STATE_LOCK="$STATE_DIR/state.lock"
  SERVER_LOG=${SERVER_LOG:-$STATE_DIR/server.log}
  for file in "$PID_FILE" "$PENDING_FILE" "$RESTART_LOCK" "$RESTART_LOCK.owner" "$STATE_LOCK" "$STATE_DIR/ready"; do
    [ ! -L "$file" ] || die 2 "$file is a symbolic link, which these scripts would write through; remove it"
  done
  export STATE_DIR
}

# check_private_dir DIR: exits 2 unless DIR is a real directory of the
# caller's that nobody else may write in.
check_private_dir() {
  [ ! -L "$1" ] || die 2 "STATE_DIR $1 is a symbolic link; give a directory of your own (unset STATE_DIR for a private default)"
  [ -d "$1" ] || die 2 "STATE_DIR $1 is not a directory"
  owner=$(stat -c %u "$1" 2>/dev/null) || die 2 "cannot stat STATE_DIR $1"
  mode=$(stat -c %a "$1" 2>/dev/null) || die 2 "cannot stat STATE_DIR $1"
  me=$(id -u) || die 2 "cannot tell your uid (id -u)"
  [ "$owner" = "$me" ] || die 2 "STATE_DIR $1 belongs to uid $owner, not to you (uid $me): whoever owns it decides which process a restart signals; use a directory of your own (unset STATE_DIR for a private default)"
  [ $((0$mode & 022)) -eq 0 ] || die 2 "STATE_DIR $1 may be written by other users (mode $mode): chmod go-w it, or use a directory of your own"
}

require_tools() {
  for tool in setsid flock; do
    command -v "$tool" >/dev/null 2>&1 || die 2 "$tool(1) is missing; install util-linux"
  done
}

# proc_start PID: sets START to the start time of the running process PID;
# fails if there is none, or only a zombie (exited, not reaped yet). Builtins
# only, so a Ctrl-C cannot kill it half-way.
proc_start() {
  START=''
  if [ ! -r /proc/self/stat ]; then
    kill -0 "$1" 2>/dev/null || return 1
    START=0
    return 0
  fi
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  # The command name (field 2) may hold spaces and parentheses: cut after it.
  # shellcheck disable=SC2086 # splitting the fields is the point
  set -- ${stat##*) }
  [ $# -ge 20 ] && [ "$1" != Z ] || return 1
  shift 19
  START=$1
}

# same_process PID START: true while that very process runs.
same_process() { proc_start "$1" && [ "$START" = "$2" ]; }

# signal_process SIGNAL PID START: sends SIGNAL only if PID is still the same
# process. (What remains is the moment between reading /proc and kill(2).)
signal_process() { same_process "$2" "$3" && kill "-$1" "$2" 2>/dev/null; }

is_ready() { [ -f "$STATE_DIR/ready/$1-$2" ] && same_process "$1" "$2"; }

# start_server COMMAND...: runs it in a session of its own (setsid), so that
# a Ctrl-C or hang-up aimed at the caller never reaches a server: only these
# scripts decide which server gets a signal. Its output is appended to
# $SERVER_LOG; the lock files are not inherited. Sets NEW_PID and NEW_START
# (empty if it already exited), and records it as pending.
start_server() {
  # In a background job of a non-interactive shell, setsid(1) is no process
  # group leader, so it calls setsid() and execs: $! is the server itself.
  setsid "$@" >>"$SERVER_LOG" 2>&1 </dev/null 8>&- 9>&- &
  NEW_PID=$!
  proc_start "$NEW_PID" || START=''
  NEW_START=$START
  write_identity "$PENDING_FILE" "$NEW_PID" "${NEW_START:-0}"
}

# wait_ready PID START: 0 once that process wrote its ready marker, 1 if it
# exited first (sets EXIT_CODE), 2 after READY_TIMEOUT seconds, 3 when a
# signal came in before the commit.
wait_ready() {
  clock
  started=$NOW
  while :; do
    [ -z "$INTERRUPTED" ] || [ -n "$COMMITTED" ] || return 3
    [ -n "$2" ] && is_ready "$1" "$2" && return 0
    if [ -z "$2" ] || ! same_process "$1" "$2"; then
      EXIT_CODE=0
      # shellcheck disable=SC2034 # read by the scripts that source this file
      wait "$1" 2>/dev/null || EXIT_CODE=$?
      return 1
    fi
    since "$started"
    [ "$ELAPSED" -lt $((READY_TIMEOUT * 1000)) ] || return 2
    pause
  done
}

# kill_new PID: ends a new server that failed its start or was interrupted
# (TERM, then KILL), and reaps it. It is this shell's child, so its PID
# cannot be reused before the wait.
kill_new() {
  kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null || :; return 0; }
  clock
  started=$NOW
  while proc_start "$1" && since "$started" && [ "$ELAPSED" -lt "$KILL_NEW_GRACE_MS" ]; do pause; done
  kill -KILL "$1" 2>/dev/null || :
  wait "$1" 2>/dev/null || :
}

# stop_processes KIND PID:START...: SIGTERM to each, then up to STOP_TIMEOUT
# seconds for all to exit, then SIGKILL to what is left. Emits
# KIND_signalled, then KIND_exited or KIND_killed per process.
stop_processes() {
  kind=$1
  shift
  remaining=''
  for id in "$@"; do
    if signal_process TERM "${id%%:*}" "${id#*:}"; then
      emit "${kind}_signalled" pid="${id%%:*}"
      remaining="$remaining $id"
    else
      emit "${kind}_exited" pid="${id%%:*}" after_ms=0
    fi
  done
  clock
  started=$NOW
  while [ -n "$remaining" ]; do
    still=''
    for id in $remaining; do
      pid=${id%%:*}
      start=${id#*:}
      since "$started"
      if ! same_process "$pid" "$start"; then
        emit "${kind}_exited" pid="$pid" after_ms="$ELAPSED"
      elif [ "$ELAPSED" -ge $((STOP_TIMEOUT * 1000)) ]; then
        signal_process KILL "$pid" "$start" || :
        emit "${kind}_killed" pid="$pid" after_ms="$ELAPSED"
        say "PID $pid did not exit within ${STOP_TIMEOUT}s of SIGTERM; sent SIGKILL"
      else
        still="$still $id"
      fi
    done
    remaining=$still
    [ -z "$remaining" ] || pause
  done
}

# write_identity FILE PID START: atomically (temp file, then rename). The
# rename runs with the three signals ignored; one that a group signal killed
# before it could ignore them is retried (twice), while a rename that fails on
# its own (permissions, a directory in the way) stops the script instead of
# spinning.
write_identity() {
  tmp="$1.tmp.$$"
  printf '%s %s\n' "$2" "$3" >"$tmp"
  tries=0
  until (trap '' INT TERM HUP; exec mv -f "$tmp" "$1") 2>/dev/null; do
    [ -e "$tmp" ] || return 0
    tries=$((tries + 1))
    [ "$tries" -lt 3 ] || { discard "$tmp"; die 2 "cannot write $1; check that $STATE_DIR is writable"; }
  done
}

# read_identity FILE: sets FILE_PID and FILE_START (empty when the file is
# missing; FILE_START is empty for a file holding a PID alone, as written by
# hand or by an older version). Exits 2 if the file is corrupt, because
# guessing could leave an old server running unseen.
read_identity() {
  FILE_PID=''
  FILE_START=''
  [ -e "$1" ] || return 0
  content=''
  { read -r content <"$1"; } 2>/dev/null || :
  pid=${content%% *}
  start=''
  [ "$pid" = "$content" ] || start=${content#* }
  if ! is_pid "$pid" || { [ -n "$start" ] && ! is_count "$start"; }; then
    shown=$(printf %s "$content" | tr -cd '[:print:]' | cut -c1-16) || shown=''
    die 2 "$1 is corrupt (starts with '$shown'); remove it if no server is running, then retry"
  fi
  FILE_PID=$pid
  FILE_START=$start
}

# current_server: sets OLD_PID and OLD_START to the server the PID file names
# if that very process runs and is a ready server of ours; leaves them empty
# (a cold start) for a missing or stale file, saying why. Exits 2 on a
# corrupt file.
current_server() {
  OLD_PID=''
  OLD_START=''
  read_identity "$PID_FILE"
  [ -n "$FILE_PID" ] || return 0
  if ! proc_start "$FILE_PID"; then
    say "PID file names PID $FILE_PID, which is gone; cold start"
  elif [ -n "$FILE_START" ] && [ "$START" != "$FILE_START" ]; then
    say "PID file names PID $FILE_PID started at $FILE_START, but that PID now belongs to another process (started at $START); cold start, nothing signalled"
  elif ! is_ready "$FILE_PID" "$START"; then
    say "PID file names PID $FILE_PID, which is not a ready server (draining, or not ours); cold start, nothing signalled"
  else
    OLD_PID=$FILE_PID
    # shellcheck disable=SC2034 # read by the scripts that source this file
    OLD_START=$START
  fi
}

# find_strays: sets STRAYS to the live servers of ours that the PID file does
# not name: the pending server and any ready one. Only a restart killed with
# SIGKILL leaves them. Markers of processes that are gone are removed.
find_strays() {
  STRAYS=''
  read_identity "$PENDING_FILE"
  if [ -n "$FILE_PID" ] && same_process "$FILE_PID" "${FILE_START:-0}" && [ "$FILE_PID" != "$OLD_PID" ]; then
    STRAYS="$FILE_PID:$FILE_START"
  fi
  for path in "$STATE_DIR"/ready/*-*; do
    [ -f "$path" ] || continue
    name=${path##*/}
    pid=${name%%-*}
    start=${name#*-}
    { is_pid "$pid" && is_count "$start"; } || continue
    if ! same_process "$pid" "$start"; then
      discard "$path"
    elif [ "$pid" != "$OLD_PID" ]; then
      case " $STRAYS " in *" $pid:$start "*) ;; *) STRAYS="$STRAYS $pid:$start" ;; esac
    fi
  done
  discard "$PENDING_FILE"
}

# take_lock: one restart at a time. flock(1) on a file held open for the
# script's life: the kernel releases it when the process ends, however it
# ends, so there is no stale lock to guess about and exactly one caller wins.
# Then the state lock, which the entrypoint holds while it reads the state.
take_lock() {
  exec 9>>"$RESTART_LOCK"
  if ! flock -n 9; then
    [ -z "$INTERRUPTED" ] || exit 130
    owner=''
    { read -r owner <"$RESTART_LOCK.owner"; } 2>/dev/null || :
    die 3 "another restart${owner:+ (PID $owner)} is in progress; wait for it to finish, then retry"
  fi
  printf '%s\n' "$$" >"$RESTART_LOCK.owner"
  exec 8>>"$STATE_LOCK"
  flock -w 30 8 || die 2 "the state lock $STATE_LOCK is held by another process for more than 30s"
}
