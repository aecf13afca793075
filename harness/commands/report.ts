// `reuseport-lab report path/to/result.json`: renders report.html, summary.md
// and junit.xml again from a saved result.json, without running load. With a
// budget (--stall-floor), it judges the run again from its record first.
import { dirname } from 'node:path';
import { Command } from 'commander';
import { readResultDocument, recordIn, type ResultDocument, toResultDocument } from '../result/document.js';
import { judge } from '../verdict.js';
import { renderSummary } from '../view/terminal.js';
import { prepareReportDir, writeReport } from '../view/write-report.js';
import { budgetOptions, readStallFloor } from './run-options.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('render report.html, summary.md and junit.xml from a saved result.json (default: next to it); with --stall-floor, judge it again first')
    .argument('<result.json>', 'the result.json of a run (schema 4, or 3 from an older version)')
    .option('--out <dir>', 'where the files go (default: the directory of result.json)')
    .addOption(budgetOptions.stallFloor().default(undefined, 'as judged'))
    .action(async (input: string, _options, command: Command) => {
      process.exitCode = await runReport(input, command);
    });
}

/** A saved run judged again with another stall floor: what was measured stays, only the verdict's budget changes. */
export function judgeAgain(doc: ResultDocument, stallFloorText: unknown): ResultDocument {
  const record = recordIn(doc);
  const rejudged = { ...record, parameters: { ...record.parameters, stallFloor: readStallFloor(stallFloorText) } };
  return toResultDocument(rejudged, judge(rejudged));
}

async function runReport(input: string, command: Command): Promise<number> {
  const o = command.opts();
  let doc = readResultDocument(input);
  if (o.stallFloor !== undefined) doc = judgeAgain(doc, o.stallFloor);
  const out = (o.out as string | undefined) ?? dirname(input);
  prepareReportDir(out);
  // Judged again: the new result.json goes beside the views; rendered only: the views alone.
  const files = await writeReport(out, doc, o.stallFloor !== undefined);
  if (o.stallFloor !== undefined) console.log(renderSummary(doc));
  for (const file of files) console.log(file);
  return doc.passed ? 0 : 1;
}
