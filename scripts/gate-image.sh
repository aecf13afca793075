#!/bin/sh
# Build the gate image (Dockerfile.gate) from this checkout: npm pack makes
# the package's tarball, and the image installs it as any user would.
#
# Usage: scripts/gate-image.sh [TAG]      (default reuseport-lab-gate:local)
#   NODE_MAJOR   Node of the base image (default 24; scripts/setup/base-images.sh makes it)
set -eu
cd "$(dirname "$0")/.."

TAG=${1:-reuseport-lab-gate:local}
NODE_MAJOR=${NODE_MAJOR:-24}

say() { printf 'gate-image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/setup/docker-engine.sh first"
docker image inspect "node:$NODE_MAJOR-bookworm-slim" >/dev/null 2>&1 ||
  die "the base image node:$NODE_MAJOR-bookworm-slim is missing; run scripts/setup/base-images.sh $NODE_MAJOR"

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
trap 'exit 130' INT TERM

say "packing this checkout (npm pack)"
npm pack --silent --pack-destination "$context" >/dev/null 2>"$context/pack.log" ||
  { tail -n 15 "$context/pack.log" >&2; die "npm pack failed (output above)"; }
rm -f "$context/pack.log"
cp Dockerfile.gate "$context/Dockerfile"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cp "$NODE_EXTRA_CA_CERTS" "$context/extra-ca.pem"; fi

say "building $TAG (Node $NODE_MAJOR)"
DOCKER_BUILDKIT=0 docker build -q --build-arg "NODE_VERSION=$NODE_MAJOR" -t "$TAG" "$context" >/dev/null
say "built $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
