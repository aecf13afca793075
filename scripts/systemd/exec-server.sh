#!/bin/sh
# ExecStart of the reuseport-lab units. Runs the server or, when a restart
# put one in $SERVER_ARGV_FILE (one argument per line), the command that
# replaces it for a fault injection. exec keeps the PID, so the process
# systemd started is the one that sends READY=1 (NotifyAccess=main).
if [ -n "${SERVER_ARGV_FILE:-}" ] && [ -s "$SERVER_ARGV_FILE" ]; then
  first=1
  while IFS= read -r arg; do
    if [ -n "$first" ]; then set -- "$arg"; first=''; else set -- "$@" "$arg"; fi
  done <"$SERVER_ARGV_FILE"
  exec "$@"
fi
exec node /app/dist/server/main.js
