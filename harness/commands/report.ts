// `reuseport-lab report path/to/result.json`: renders report.html, summary.md
// and junit.xml again from a saved result.json, without running load. With a
// budget (--stall-floor, --latency-budget), it judges the run again from its
// record first, and exits with the new verdict's code; without one it exits 0
// once the files are written, and says the verdict in one line.
import { dirname } from 'node:path';
import { Command } from 'commander';
import { withLatencyBudget } from '../result/latency-budget.js';
import {
  RESULT_SCHEMA_VERSION,
  readResultDocument,
  recordIn,
  type ResultDocument,
  toResultDocument,
} from '../result/document.js';
import { exitCodeOf, judge } from '../verdict.js';
import { renderSummary, verdictLine } from '../view/terminal.js';
import { EXIT } from '../exit-codes.js';
import { prepareReportDir, writeReport } from '../view/write-report.js';
import { budgetOptions, readLatencyBudget, readStallFloor } from './run-options.js';

export function reportCommand(): Command {
  return new Command('report')
    .description(
      'render report.html, summary.md and junit.xml from a saved result.json (default: next to it); with a budget, judge it again first',
    )
    .argument(
      '<result.json>',
      `the result.json of a run (schema ${RESULT_SCHEMA_VERSION}, or 3 to ${RESULT_SCHEMA_VERSION - 1} from an older version)`,
    )
    .option('--out <dir>', 'where the files go (default: the directory of result.json)')
    .addOption(budgetOptions.stallFloor().default(undefined, 'as judged'))
    .addOption(budgetOptions.latencyBudget().default(undefined, 'as judged'))
    .action(async (input: string, _options, command: Command) => {
      process.exitCode = await runReport(input, command);
    });
}

/** The budgets to judge a saved run at, as given on the command line; absent: as it was judged. */
export interface Rebudget {
  stallFloor?: unknown;
  latencyBudget?: unknown;
}

/** A saved run judged again at other budgets: what was measured stays, only the verdict's budgets change. */
export function judgeAgain(doc: ResultDocument, budgets: Rebudget): ResultDocument {
  let record = recordIn(doc);
  if (budgets.latencyBudget !== undefined) record = withLatencyBudget(record, readLatencyBudget(budgets.latencyBudget));
  if (budgets.stallFloor !== undefined)
    record = { ...record, parameters: { ...record.parameters, stallFloor: readStallFloor(budgets.stallFloor) } };
  return toResultDocument(record, judge(record));
}

async function runReport(input: string, command: Command): Promise<number> {
  const o = command.opts();
  const budgets: Rebudget = { stallFloor: o.stallFloor, latencyBudget: o.latencyBudget };
  const again = budgets.stallFloor !== undefined || budgets.latencyBudget !== undefined;
  let doc = readResultDocument(input);
  if (again) doc = judgeAgain(doc, budgets);
  const out = (o.out as string | undefined) ?? dirname(input);
  prepareReportDir(out, o.out === undefined ? 'the directory of the result.json,' : '--out');
  // Judged again: the new result.json goes beside the views; rendered only: the views alone.
  const files = await writeReport(out, doc, again);
  // Judged again, the exit code is the new verdict's; rendered only, the job was to render (the verdict is said).
  console.log(again ? renderSummary(doc) : verdictLine(doc));
  for (const file of files) console.log(file);
  return again ? exitCodeOf(doc) : EXIT.passed;
}
