#!/usr/bin/env bash
# action.yml, step 2: run the gate and end with its own exit code (0 passed,
# 1 a request was lost, 2 it could not run, 3 inconclusive: the load generator
# fell behind), which fails the step and the job on anything but 0. The gate itself appends its summary to the job's page
# ($GITHUB_STEP_SUMMARY), whatever the verdict.
#   INPUT_CONFIG, INPUT_ARGS, INPUT_REPORT_DIR   the action's inputs
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT           set by the runner
set -uo pipefail

: "${INPUT_CONFIG:?set the config input of the action to your gate.json}"
: "${INPUT_REPORT_DIR:=reports/zero-downtime}"
[ -f "$INPUT_CONFIG" ] || { echo "::error::config $INPUT_CONFIG not found (relative to $(pwd))"; exit 2; }

read -r -a extra <<<"${INPUT_ARGS:-}"
reuseport-lab gate --config "$INPUT_CONFIG" --report-dir "$INPUT_REPORT_DIR" "${extra[@]}"
code=$?

[ -z "${GITHUB_OUTPUT:-}" ] || echo "exit-code=$code" >>"$GITHUB_OUTPUT"
case $code in
  0) ;;
  1) echo "::error::the zero-downtime gate failed: a restart lost or delayed requests (report: $INPUT_REPORT_DIR)" ;;
  3) echo "::warning::the zero-downtime gate was inconclusive: the load generator fell behind its schedule, so the run proves nothing either way; run it again, or lower the rate (report: $INPUT_REPORT_DIR)" ;;
  *) echo "::error::the zero-downtime gate could not run (exit $code); its message is above" ;;
esac
exit "$code"
