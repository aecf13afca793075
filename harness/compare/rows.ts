// The comparison table of `npm run compare`, from the result documents of
// one run per strategy. Pure: documents in, rows out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencySummary } from '../load/recorder.js';
import type { LoadMode } from '../load/modes.js';
import { describeDesign, type DesignName } from './designs.js';
import type { ResultDocument } from '../result/document.js';

/** Median and range of a list of figures; null when there are none. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

/** One strategy in one load mode. */
export interface CompareRow {
  strategy: DesignName;
  mode: LoadMode;
  passed: boolean;
  /** The load generator fell behind: the row proves nothing either way. */
  inconclusive: boolean;
  answered: number;
  failed: number;
  failuresByCause: Record<string, number>;
  /** The worst switchover of the run in this mode: its p99, and the longest any client waited. */
  switchover: LatencySummary | null;
  steady: LatencySummary | null;
  /** Per restart: trigger until only the new process answers. */
  switchoverTimeMs: Spread | null;
  /** The gate's checks that failed, by id. */
  failedChecks: string[];
}

/** How a strategy is run day to day, with the lines its files take. */
export interface OperationsRow {
  strategy: DesignName;
  killer: string;
  needs: string;
  logs: string;
  reboot: string;
  files: number;
  lines: number;
}

/**
 * Trigger to the moment only the new process answers: the later of the old
 * PID's last answer and the new PID's first. Restarts that did not replace
 * the server (rolled back, failed) have none.
 */
export function switchoverTimes(doc: ResultDocument): number[] {
  const seen = new Map(doc.pids.map((p) => [p.pid, p]));
  const times: number[] = [];
  for (const r of doc.restarts) {
    if (r.exitCode !== 0 || r.newPid === null) continue;
    const fresh = seen.get(r.newPid);
    if (!fresh) continue;
    const old = r.oldPid === null ? undefined : seen.get(r.oldPid);
    // A PID's `last` is its last answer of the whole run: for the old PID of a restart, that is before its exit.
    const end = Math.max(fresh.first, old ? Math.min(old.last, r.finishedAt) : fresh.first);
    times.push(Math.max(0, end - r.triggeredAt));
  }
  return times;
}

function worst(windows: { stats: { latency: LatencySummary | null } }[]): LatencySummary | null {
  let found: LatencySummary | null = null;
  for (const { stats } of windows) {
    if (stats.latency && (!found || stats.latency.max > found.max)) found = stats.latency;
  }
  return found;
}

export function compareRows(runs: { strategy: DesignName; doc: ResultDocument }[]): CompareRow[] {
  return runs.flatMap(({ strategy, doc }) => {
    const times = spread(switchoverTimes(doc));
    const failedChecks = doc.checks.filter((c) => !c.passed).map((c) => c.id);
    return doc.modes.map((m) => ({
      strategy,
      mode: m.mode,
      passed: doc.passed,
      inconclusive: doc.inconclusive,
      answered: m.answered,
      failed: m.failed,
      failuresByCause: m.failuresByCause as Record<string, number>,
      switchover: worst(m.switchovers ?? []),
      steady: m.steady.latency,
      switchoverTimeMs: times,
      failedChecks,
    }));
  });
}

/** Counts the lines of the files a strategy takes, from the repository at `root`. */
export function operationsRows(strategies: DesignName[], root: string): OperationsRow[] {
  return strategies.map((name) => {
    const strategy = describeDesign(name);
    const lines = strategy.operations.files.reduce(
      (sum, file) =>
        sum +
        readFileSync(join(root, file), 'utf8')
          .split('\n')
          .filter((l) => l.trim()).length,
      0,
    );
    return {
      strategy: name,
      killer: strategy.killer,
      needs: strategy.needs,
      logs: strategy.operations.logs,
      reboot: strategy.operations.reboot,
      files: strategy.operations.files.length,
      lines,
    };
  });
}
