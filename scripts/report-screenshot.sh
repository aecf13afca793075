#!/bin/sh
# Renders a report.html in headless Chromium to a PNG (for docs and reviews).
# Usage: scripts/report-screenshot.sh REPORT.html OUT.png [WIDTH,HEIGHT]
set -eu
[ $# -ge 2 ] || { echo 'usage: report-screenshot.sh REPORT.html OUT.png [WIDTH,HEIGHT]' >&2; exit 2; }
[ -f "$1" ] || { echo "report-screenshot: no such file: $1" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo 'report-screenshot: no Chromium found; install it (Debian: apt-get install chromium)' >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
report=$(CDPATH='' cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
# The background-networking flags keep Chromium from calling home on a closed network.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="${3:-1000,1500}" \
  --screenshot="$2" "file://$report" >/dev/null 2>&1
[ -s "$2" ] || { echo "report-screenshot: Chromium wrote no image to $2" >&2; exit 1; }
