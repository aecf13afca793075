// The open and the closed load model side by side, interleaved round by
// round on the same machine: what each costs the machine, what latency each
// judges, and what each makes of a server that stops answering for 3 s
// (stall-after-ready). The open model's rates come from its own calibration,
// which the table states.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildRunner } from '../child-run.js';
import { didNotRun, setupReason } from '../child-run.js';
import { spread, type Spread } from '../compare/rows.js';
import { RUN_DEFAULTS } from '../defaults.js';
import { SetupError } from '../errors.js';
import { MODE_NAMES, type LoadMode, type LoadModel } from '../load/modes.js';
import { readResultDocument, type ResultDocument } from '../result/document.js';
import { outcomeOf } from '../verdict.js';
import { fixed as f, spreadText as sp } from '../format.js';

/** What one run of one model gave. */
export interface ModelRun {
  model: LoadModel;
  fault: string | null;
  outcome: 'passed' | 'failed' | 'inconclusive';
  /** The median over the run's buckets of the machine's busy share, and of the harness's CPU (a share of one core). */
  machineBusy: number;
  harnessCpu: number;
  /** Per mode: the steady p99 (ms), requests per second answered, and responses over the latency budget. */
  modes: {
    mode: LoadMode;
    steadyP99: number | null;
    perSecond: number;
    slow: number;
    rate: number | null;
    capacity: number | null;
  }[];
  /** The slowest response of any switchover, ms. */
  slowestSwitchover: number;
}

const median = (values: number[]) => spread(values)?.median ?? NaN;

/** The figures of one result.json. */
export function modelRun(model: LoadModel, fault: string | null, doc: ResultDocument): ModelRun {
  const seconds = (doc.endedAt - doc.startedAt) / 1000;
  return {
    model,
    fault,
    outcome: outcomeOf(doc),
    machineBusy: median(doc.harness.flatMap((b) => (b.machineBusy === null ? [] : [b.machineBusy]))),
    harnessCpu: median(doc.harness.map((b) => b.harnessCpu)),
    modes: doc.modes.map((m) => ({
      mode: m.mode,
      steadyP99: m.steady.latency?.p99 ?? null,
      perSecond: Math.round(m.answered / seconds),
      slow: m.failuresByCause.slow ?? 0,
      rate: m.schedule?.ratePerSecond ?? null,
      capacity: doc.calibration?.capacity[m.mode] ?? null,
    })),
    slowestSwitchover: Math.max(0, ...doc.switchovers.map((w) => w.stats.latency?.max ?? 0)),
  };
}

/** `rounds` interleaved rounds of the default poc and the stall-after-ready fault, each in both models. */
export async function compareModels(options: {
  runner: ChildRunner;
  cli: string;
  cwd: string;
  rounds: number;
  say: (line: string) => void;
}): Promise<ModelRun[]> {
  const runs: ModelRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const fault of [null, 'stall-after-ready']) {
      for (const model of ['open', 'closed'] as const) {
        options.say(
          `models: round ${round + 1}/${options.rounds}, ${model} model${fault ? `, --fault ${fault}` : ''}...`,
        );
        const dir = mkdtempSync(join(tmpdir(), 'reuseport-lab-bench-models-'));
        const args = [
          'poc',
          '--runtime',
          'docker',
          '--skip-build',
          '--load-model',
          model,
          ...(fault ? ['--fault', fault] : []),
          '--report-dir',
          dir,
        ];
        const run = await options.runner.run(options.cli, args, options.cwd);
        if (didNotRun(run.code))
          throw new SetupError(
            `the ${model}-model run could not run: ${setupReason(run.stderr)} (build the image first: npm run poc once)`,
          );
        runs.push(modelRun(model, fault, readResultDocument(join(dir, 'result.json'))));
      }
    }
  }
  return runs;
}

const pct = (s: Spread | null) => (s ? `${f(s.median * 100)}% (${f(s.min * 100)}–${f(s.max * 100)}%)` : '–');

/** The section's Markdown: one row per model and kind of run, medians (min–max) over the rounds. */
export function renderModels(runs: ModelRun[], rounds: number): string[] {
  const rows: string[][] = [];
  for (const fault of [null, 'stall-after-ready']) {
    for (const model of ['open', 'closed'] as const) {
      const these = runs.filter((r) => r.model === model && r.fault === fault);
      if (!these.length) continue;
      const outcomes = ['passed', 'failed', 'inconclusive']
        .map((o) => [o, these.filter((r) => r.outcome === o).length] as const)
        .filter(([, n]) => n > 0);
      const perMode = (mode: LoadMode, pick: (m: ModelRun['modes'][number]) => number | null) =>
        spread(
          these.flatMap((r) =>
            r.modes.filter((m) => m.mode === mode).flatMap((m) => (pick(m) === null ? [] : [pick(m)!])),
          ),
        );
      const modes: LoadMode[] = ['keepalive', 'churn'];
      rows.push([
        fault ? `${model}, ${fault}` : model,
        outcomes.map(([o, n]) => `${n} ${o}`).join(', '),
        pct(spread(these.map((r) => r.machineBusy))),
        sp(spread(these.map((r) => r.harnessCpu)), 2),
        modes
          .map(
            (mode) =>
              `${sp(perMode(mode, (m) => m.perSecond))}${model === 'open' ? ` of ${sp(perMode(mode, (m) => m.capacity))}` : ''}`,
          )
          .join('; '),
        modes
          .map((mode) =>
            sp(
              perMode(mode, (m) => m.steadyP99),
              0,
              ' ms',
            ),
          )
          .join('; '),
        sp(spread(these.map((r) => r.slowestSwitchover)), 0, ' ms'),
        modes.map((mode) => sp(perMode(mode, (m) => m.slow))).join('; '),
      ]);
    }
  }
  const header = [
    'model',
    'verdicts',
    'CPUs busy (median of the run)',
    'harness CPU (cores)',
    `answered per second, ${MODE_NAMES.keepalive}; ${MODE_NAMES.churn} (open: of the calibrated capacity)`,
    'steady p99',
    'slowest switchover response',
    'responses over the budget',
  ];
  return [
    '### The open and the closed load model',
    '',
    [
      `| ${header.join(' | ')} |`,
      `|${header.map(() => ' --- ').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n'),
    '',
    `${rounds} interleaved rounds of \`npm run poc -- --runtime docker --load-model open|closed\` (3 restarts, 2 s apart, both load modes), each also with \`--fault stall-after-ready\` (the new server blocks for 3 s after it is ready): \`npm run bench -- --only models --rounds ${rounds}\`. Median (min–max) over the rounds. The open model drives ${f(RUN_DEFAULTS.loadShare * 100)}% of the capacity its calibration measures just before the warm-up (docs/how-it-works.md, "The open model"); the closed model sends at full speed on 50 connections per mode. "Responses over the budget" in the stall rows is what each model makes of the same 3 s in which nobody was answered.`,
    '',
  ];
}
