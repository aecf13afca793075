#!/usr/bin/env bash
# action.yml, step 2: run the gate and end with its own exit code, which
# fails the step and the job on anything but 0, with an annotation that says
# what the code means (harness/exit-codes.ts): 1 a restart lost or delayed
# requests, 2 a flag or the config is wrong, 3 inconclusive (the load
# generator fell behind), 4 the target could not be run, 5 a bug in
# reuseport-lab, 130 interrupted. The gate itself appends its summary to the
# job's page ($GITHUB_STEP_SUMMARY), whatever the verdict.
#   INPUT_CONFIG, INPUT_ARGS, INPUT_REPORT_DIR   the action's inputs
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT           set by the runner
set -uo pipefail

: "${INPUT_CONFIG:?set the config input of the action to your gate.json}"
: "${INPUT_REPORT_DIR:=reports/zero-downtime}"
[ -f "$INPUT_CONFIG" ] || { echo "::error::config $INPUT_CONFIG not found (relative to $(pwd))"; exit 2; }

# args: split as a shell splits words, quotes kept together ("--request 'POST /x @b.json'"),
# without evaluating anything: xargs reads quotes and backslashes, and runs no shell.
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  if ! split=$(printf '%s' "$INPUT_ARGS" | xargs -r printf '%s\0' 2>&1 >/dev/null); then
    echo "::error::the args input does not split into words (${split:-unbalanced quotes}); quote each flag's value whole, e.g. --request 'POST /x @b.json'"
    exit 2
  fi
  mapfile -d '' -t extra < <(printf '%s' "$INPUT_ARGS" | xargs -r printf '%s\0')
fi
reuseport-lab gate --config "$INPUT_CONFIG" --report-dir "$INPUT_REPORT_DIR" "${extra[@]}"
code=$?

[ -z "${GITHUB_OUTPUT:-}" ] || echo "exit-code=$code" >>"$GITHUB_OUTPUT"
case $code in
  0) ;;
  1) echo "::error::the zero-downtime gate failed: a restart lost or delayed requests (report: $INPUT_REPORT_DIR)" ;;
  2) echo "::error::the zero-downtime gate did not run: a flag or the config is wrong (exit 2); its message is above" ;;
  3) echo "::warning::the zero-downtime gate was inconclusive: the load generator fell behind its schedule, so the run proves nothing either way; run it again, or lower the rate (report: $INPUT_REPORT_DIR)" ;;
  4) echo "::error::the zero-downtime gate could not run the target (exit 4: no engine, no image, never ready, or a restart command not found); its message is above" ;;
  5) echo "::error::the zero-downtime gate stopped on an internal error (exit 5): a bug in reuseport-lab; its stack is above" ;;
  130) echo "::warning::the zero-downtime gate was interrupted (exit 130)" ;;
  *) echo "::error::the zero-downtime gate exited $code; its message is above" ;;
esac
exit "$code"
