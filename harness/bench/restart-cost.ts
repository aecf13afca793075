// Restart cost, per strategy, from the result.json of one run each (npm run
// compare writes them): how long each phase of a restart takes, how much the
// switchover answers against the same time in the steady state, and how its
// latency compares with the steady state's.
import { spread, type Spread } from '../compare/rows.js';
import type { ResultDocument } from '../view/result-json.js';
import { switchovers } from '../view/switchover.js';

export interface RestartCost {
  strategy: string;
  restarts: number;
  readyMs: Spread | null;
  lastOldAnswerMs: Spread | null;
  oldGoneMs: Spread | null;
  /** Answered during each switchover over what the warm-up answers in as long. */
  answeredShare: Spread | null;
  /** Switchover p99 and max over the warm-up's p99. */
  p99OverSteady: Spread | null;
  maxOverSteady: Spread | null;
}

export function restartCost(strategy: string, doc: ResultDocument): RestartCost {
  const firstTrigger = doc.restarts[0]?.triggeredAt ?? doc.endedAt;
  const warmupFrom = doc.startedAt + doc.bucketMs;
  const steadyRate = doc.steady.answered / Math.max(1, firstTrigger - warmupFrom);
  const steadyP99 = doc.steady.latency?.p99 ?? NaN;
  const phases = switchovers(doc).filter((s) => s.exitCode === 0);
  const windows = doc.switchovers.filter((w) => phases.some((p) => p.index === w.index));
  const values = <T>(items: T[], f: (item: T) => number | null | undefined) => spread(items.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  return {
    strategy,
    restarts: phases.length,
    readyMs: values(phases, (p) => p.readyMs),
    lastOldAnswerMs: values(phases, (p) => p.lastOldAnswerMs),
    oldGoneMs: values(phases, (p) => p.oldGoneMs),
    answeredShare: values(windows, (w) => w.stats.answered / (steadyRate * Math.max(1, w.to - w.from))),
    p99OverSteady: values(windows, (w) => (w.stats.latency ? w.stats.latency.p99 / steadyP99 : null)),
    maxOverSteady: values(windows, (w) => (w.stats.latency ? w.stats.latency.max / steadyP99 : null)),
  };
}
