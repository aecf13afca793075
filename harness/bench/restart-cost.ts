// Restart cost, per strategy, from the result.json of one run each (npm run
// compare writes them): how long each phase of a restart takes, how much the
// switchover answers against the same time in the steady state, and how its
// latency compares with the steady state's.
import { spread, type Spread } from '../compare/rows.js';
import type { ResultDocument } from '../result/document.js';
import { switchovers } from '../view/switchover.js';

export interface RestartCost {
  strategy: string;
  restarts: number;
  readyMs: Spread | null;
  lastOldAnswerMs: Spread | null;
  oldGoneMs: Spread | null;
  /** Answered during each switchover over what the same length of time right before it answered. */
  answeredShare: Spread | null;
  /** Switchover p99 and max over the warm-up's p99. */
  p99OverSteady: Spread | null;
  maxOverSteady: Spread | null;
}

/** Answered in whole buckets of [from, to): the steady state just before a restart. */
function answeredBetween(doc: ResultDocument, from: number, to: number): { answered: number; ms: number } {
  const buckets = doc.buckets.filter((b) => b.start >= from && b.start + doc.bucketMs <= to);
  return { answered: buckets.reduce((sum, b) => sum + b.answered, 0), ms: buckets.length * doc.bucketMs };
}

export function restartCost(strategy: string, doc: ResultDocument): RestartCost {
  const steadyP99 = doc.steady.latency?.p99 ?? NaN;
  const phases = switchovers(doc).filter((s) => s.exitCode === 0);
  const windows = doc.switchovers.filter((w) => phases.some((p) => p.index === w.index));
  const values = <T>(items: T[], f: (item: T) => number | null | undefined) =>
    spread(items.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  return {
    strategy,
    restarts: phases.length,
    readyMs: values(phases, (p) => p.readyMs),
    lastOldAnswerMs: values(phases, (p) => p.lastOldAnswerMs),
    oldGoneMs: values(phases, (p) => p.oldGoneMs),
    // Against the same length of time right before the trigger (the warm-up is still warming up the JIT).
    answeredShare: values(windows, (w) => {
      const before = answeredBetween(doc, w.from - Math.max(w.to - w.from, doc.bucketMs) - doc.bucketMs, w.from);
      return before.ms > 0 ? w.stats.answered / ((before.answered / before.ms) * Math.max(1, w.to - w.from)) : null;
    }),
    p99OverSteady: values(windows, (w) => (w.stats.latency ? w.stats.latency.p99 / steadyP99 : null)),
    maxOverSteady: values(windows, (w) => (w.stats.latency ? w.stats.latency.max / steadyP99 : null)),
  };
}
