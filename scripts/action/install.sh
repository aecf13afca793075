#!/usr/bin/env bash
# action.yml, step 1: install the package into a prefix of its own under the
# runner's temp directory and put its bin on the job's PATH. No compiler is
# needed: the addon ships prebuilt, and the gate does not load it.
#   INPUT_PACKAGE   what npm installs (registry spec, tarball path or URL)
#   RUNNER_TEMP, GITHUB_PATH   set by the runner
set -euo pipefail

: "${INPUT_PACKAGE:?set the package input of the action, e.g. reuseport-lab@0.1.0}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set; this script runs as a step of action.yml}"
: "${GITHUB_PATH:?GITHUB_PATH is not set; this script runs as a step of action.yml}"
command -v npm >/dev/null || { echo "::error::reuseport-lab needs Node.js and npm on the runner (actions/setup-node)"; exit 2; }

prefix=$RUNNER_TEMP/reuseport-lab
rm -rf "$prefix"
npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "$INPUT_PACKAGE"
"$prefix/bin/reuseport-lab" --version >/dev/null
echo "$prefix/bin" >>"$GITHUB_PATH"
echo "reuseport-lab $("$prefix/bin/reuseport-lab" --version) installed in $prefix"
