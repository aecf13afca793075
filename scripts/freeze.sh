#!/bin/sh
# The `freeze` fault (harness/faults.ts): after a restart has finished, the
# process that now serves alone is stopped (SIGSTOP) for a while and then
# continued (SIGCONT). Nothing it holds is lost; every request that falls
# due meanwhile waits. It is the canonical test of a load generator: a
# closed loop sees one slow request per connection, an open one every user
# who arrived during the freeze.
#
# Usage: freeze.sh MS PID_PROBE
#   MS         how long the process stays stopped, in milliseconds
#   PID_PROBE  a shell snippet that prints the serving PID (the strategy's)
# Prints the restart events `frozen` and `thawed` (strategies/events.ts).
# Whatever happens, the process is continued before this script exits.
set -eu

SCRIPT_NAME=freeze.sh
SCRIPTS_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=lib/script.sh
. "$SCRIPTS_DIR/lib/script.sh"
catch_signals

[ $# -eq 2 ] || die 2 'usage: freeze.sh MS PID_PROBE'
is_count "$1" || die 2 "MS must be a whole number of milliseconds, got '$1'"
ms=$1
pid=$(sh -c "$2") || die 1 "the serving PID could not be read"
is_pid "$pid" || die 1 "the serving PID probe printed '$pid', not a PID"

trap 'kill -CONT "$pid" 2>/dev/null || :' EXIT
kill -STOP "$pid" || die 1 "cannot stop PID $pid"
emit frozen pid="$pid"
clock
stopped_at=$NOW
# One sleep, not sleep_ms's polling: the freeze's length is the point.
sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" 2>/dev/null || :
kill -CONT "$pid" 2>/dev/null || :
since "$stopped_at"
emit thawed pid="$pid" after_ms="$ELAPSED"
