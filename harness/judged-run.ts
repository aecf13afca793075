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
import { judge } from './verdict.js';
import { renderSummary, startProgress } from './view/terminal.js';
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
): Promise<{ result: ScenarioResult; doc: ResultDocument }> {
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
  return { result, doc };
}
