// One judged run, as `npm run poc` and `reuseport-lab gate` both make it:
// the scenario under load (Ctrl-C stops the load and still reports), the
// runtime closed whatever happens, then the verdict, the report files, and
// the terminal view (or result.json on stdout with --json).
import chalk from 'chalk';
import type { Runtime } from './runtime/runtime.js';
import { type ResultDocument, toResultDocument } from './result/document.js';
import { recordOf } from './run-record.js';
import { LOAD_CLIENTS } from './load/clients.js';
import { describeRates } from './load/modes.js';
import { runScenario, type ScenarioHooks, type ScenarioOptions, type ScenarioResult } from './scenario.js';
import type { RestartRecord } from './runtime/runtime.js';
import { exitCodeOf, judge } from './verdict.js';
import { EXIT, type ExitCode, restartNeverRan } from './exit-codes.js';
import { forTerminal } from './view/safe-text.js';
import { progressEvent, renderSummary, startProgress } from './view/terminal.js';
import { writeReport } from './view/write-report.js';

export interface RunOutput {
  reportDir: string;
  json: boolean;
  /** Lines for people: stdout, or stderr when --json owns stdout. */
  say: (text: string) => void;
}

export async function judgedRun(
  runtime: Runtime,
  scenario: ScenarioOptions,
  output: RunOutput,
  hooks: Pick<ScenarioHooks, 'afterWarmup'> = {},
): Promise<{ result: ScenarioResult; doc: ResultDocument; exitCode: ExitCode }> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return;
    process.stderr.write(`\n${signal}: stopping the load and cleaning up...\n`);
    abort.abort(`interrupted by ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let stopProgress = () => {};
  let result: ScenarioResult;
  try {
    result = await runScenario(runtime, LOAD_CLIENTS, scenario, {
      ...hooks,
      signal: abort.signal,
      onRates: (open) => output.say(chalk.dim(`  rates: ${describeRates(open)}`)),
      onRecorder: (recorder) => (stopProgress = startProgress(recorder, scenario.latencyBudgetMs)),
      onRestart: (restart) => progressEvent(restartLine(restart, scenario.restarts)),
    });
  } finally {
    stopProgress();
    await runtime.close().catch((error: Error) => process.stderr.write(`cleanup failed: ${error.message}\n`));
  }
  const record = recordOf(result);
  const doc = toResultDocument(record, judge(record));
  const files = await writeReport(output.reportDir, doc);
  if (output.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else console.log(`\n${renderSummary(doc)}`);
  output.say(chalk.dim(`  report: ${files.join(', ')}`));
  const exitCode = exitCodeOfRun(doc, abort.signal.aborted);
  const why = exitCode === EXIT.target || exitCode === EXIT.internal ? whyNotJudged(doc) : null;
  if (why) process.stderr.write(`reuseport-lab: ${forTerminal(why)}\n`);
  return { result, doc, exitCode };
}

/** A restart as it finishes, for the progress stream: a CI log says how the run goes. */
function restartLine(restart: RestartRecord, of: number): string {
  const took = `${((restart.finishedAt - restart.triggeredAt) / 1000).toFixed(1)} s`;
  const pids =
    restart.oldPid !== null || restart.newPid !== null
      ? ` (PID ${restart.oldPid ?? '?'} → ${restart.newPid ?? '?'})`
      : '';
  const how = restart.timedOut ? 'timed out' : restart.exitCode === 0 ? 'done' : `exited ${restart.exitCode}`;
  return `restart ${restart.index}/${of} ${how} in ${took}${pids}`;
}

/**
 * The exit code of a run that was reported: the verdict's (0, 1, 3), but
 * 130 when a signal stopped it, 4 when the first restart command never ran
 * (not found, not executable: the target's setup, and nothing a restart does
 * was judged), 5 when the run ended on an error nobody expected (its stack is
 * in result.json). A restart that could not run in a run that was cut short
 * (its container gone mid-run: docker exec then says 126 too), or a later
 * one, is what the run saw: the verdict's.
 */
export function exitCodeOfRun(doc: ResultDocument, signalled: boolean): ExitCode {
  if (signalled) return EXIT.interrupted;
  if (doc.interrupted?.stack) return EXIT.internal;
  if (firstRestartNeverRan(doc)) return EXIT.target;
  return exitCodeOf(doc);
}

const firstRestartNeverRan = (doc: ResultDocument) => {
  const first = doc.restarts[0];
  return first !== undefined && !doc.interrupted && restartNeverRan(first.exitCode) ? first : undefined;
};

/** One line for a run that ended on something other than a verdict. */
function whyNotJudged(doc: ResultDocument): string | null {
  if (doc.interrupted?.stack)
    return `the run stopped on an internal error (${doc.interrupted.reason.slice(0, 200)}); this is a bug in reuseport-lab: its stack is in result.json (interrupted.stack)`;
  const never = firstRestartNeverRan(doc);
  if (!never) return null;
  const said = never.messages.trim().split('\n').at(-1)?.slice(0, 200);
  return `restart #${never.index} exited ${never.exitCode}: its command never ran (not found, or not executable, where it was run)${said ? `: ${said}` : ''}; fix --restart (and --restart-on: container or host)`;
}
