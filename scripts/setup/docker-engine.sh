#!/bin/sh
# Make sure a Docker engine answers, installing and starting one on a bare
# Debian machine when none does.
#
# Contract:
#   - an engine that already answers `docker info` is used as it is (Docker
#     Desktop, a system dockerd, a remote DOCKER_HOST): nothing is installed;
#   - otherwise, on Debian/Ubuntu as root, Debian's docker.io is installed if
#     dockerd is missing, and dockerd is started in the background with its log
#     in $DOCKERD_LOG; the script waits up to $DOCKERD_WAIT seconds for it;
#   - anywhere else it stops with one line that says what to do.
# The dockerd it starts keeps running after the script exits (that is its
# job); its PID is written to $DOCKERD_PIDFILE so it can be stopped by PID.
set -eu

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/reuseport-lab-dockerd.log}
DOCKERD_PIDFILE=${DOCKERD_PIDFILE:-/run/reuseport-lab-dockerd.pid}
DOCKERD_WAIT=${DOCKERD_WAIT:-60}

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  say "engine reachable ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown version))"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "no Docker engine answers and this script needs root to start one; start Docker yourself (Docker Desktop or 'sudo systemctl start docker') and retry"
command -v apt-get >/dev/null 2>&1 || die "no Docker engine answers and this is not a Debian-like system; install and start Docker, then retry"

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null ||
    die "apt-get could not install docker.io; check the package mirror and retry"
fi

say "starting dockerd (log: $DOCKERD_LOG)"
# setsid: the daemon must not die with the shell or CI step that started it.
setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
echo $! >"$DOCKERD_PIDFILE"

waited=0
until engine_answers; do
  kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null ||
    die "dockerd exited at start; see the end of $DOCKERD_LOG"
  [ "$waited" -lt "$((DOCKERD_WAIT * 10))" ] ||
    die "dockerd did not answer within ${DOCKERD_WAIT}s; see $DOCKERD_LOG"
  sleep 0.1
  waited=$((waited + 1))
done
say "engine ready after $((waited / 10)).$((waited % 10))s"
