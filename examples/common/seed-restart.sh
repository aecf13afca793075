#!/bin/sh
# The restart of seed 004, for any server started as $SERVER_CMD: start the
# new process, wait until /healthz answers *through the shared port* (so the
# old process may be the one answering), then SIGTERM the old PID from
# server.pid. The seed starts it with a bare `./server &`; here its output
# goes to the container's log (PID 1's stdout) instead, because a process
# that keeps `docker exec`'s stdout open keeps the exec from ever ending.
set -eu
cd /app
# shellcheck disable=SC2086 # SERVER_CMD is a command line from the image
$SERVER_CMD >>/proc/1/fd/1 2>&1 &
new=$!
tries=0
# HEALTH_CURL_OPTIONS: --http2-prior-knowledge for a server whose port speaks HTTP/2 alone.
# HEALTH_CMD: a command of the image's own instead, for a port curl cannot ask (gRPC).
healthy() {
  if [ -n "${HEALTH_CMD:-}" ]; then
    # shellcheck disable=SC2086 # a command line from the image
    $HEALTH_CMD >/dev/null 2>&1
  else
    # shellcheck disable=SC2086 # options, split on purpose
    curl -fs ${HEALTH_CURL_OPTIONS:-} "http://127.0.0.1:${PORT:-8080}/healthz" >/dev/null 2>&1
  fi
}
until healthy; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ] || ! kill -0 "$new" 2>/dev/null; then
    echo "seed-restart: new server $new not healthy; stopping it" >&2
    kill "$new" 2>/dev/null || :
    exit 1
  fi
  sleep 0.1
done
kill -TERM "$(cat server.pid)"
echo "$new" >server.pid
