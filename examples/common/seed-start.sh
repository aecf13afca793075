#!/bin/sh
# First start, as in seed 004: the server in the background, its PID in
# server.pid. The loop keeps the container up and reaps the servers that
# this shell started once they exit (tini reaps the ones a restart started).
cd /app || exit 2
# shellcheck disable=SC2086 # SERVER_CMD is a command line from the image
$SERVER_CMD &
echo $! >server.pid
while :; do
  wait
  sleep 1
done
