// The gallery table: per example, what each load mode lost per restart, and
// how long each switchover took, from the gate's result.json.
import { spread, type Spread } from '../compare/rows.js';
import type { LoadMode } from '../load/modes.js';
import { UNKNOWN_PID } from '../load/response-check.js';
import type { ResultDocument } from '../result/document.js';
import { lanesOfKind, streamFigures } from '../result/lanes.js';

export interface GalleryRow {
  example: string;
  restart: string;
  passed: boolean;
  /** The load generator fell behind: the row proves nothing either way. */
  inconclusive: boolean;
  restarts: number;
  /** Per load mode: failed requests over the run, and their causes. */
  failed: Partial<Record<LoadMode, { failed: number; causes: Record<string, number> }>>;
  /** Trigger until the last answer of a process that served before it; null without identity. */
  switchoverMs: Spread | null;
  /** The long-request lane (`long` in its gate.json): requests written, and those cut in flight; null: none. */
  longLane: { path: string; written: number; cut: number; failed: number } | null;
  /** The stream lane (`stream`): how many times a stream ended, how many of those not gracefully, numbers lost; null: none. */
  stream: { kind: string; ended: number; notGraceful: number; lost: number } | null;
  failedChecks: string[];
}

/**
 * For a server that is not ours the gate sees processes only through their
 * answers: a switchover lasts from the trigger until the last answer of any
 * process that had answered before it (within that restart's interval).
 */
export function foreignSwitchoverTimes(doc: ResultDocument): number[] {
  const pids = doc.pids.filter((p) => p.pid !== UNKNOWN_PID);
  if (pids.length === 0) return [];
  return doc.restarts.flatMap((r, i) => {
    const until = doc.restarts[i + 1]?.triggeredAt ?? doc.endedAt;
    const before = pids.filter((p) => p.first < r.triggeredAt);
    if (before.length === 0 || r.exitCode !== 0) return [];
    // Their last answers within this interval, from the buckets (a PID's `last` is over the whole run).
    let last = r.triggeredAt;
    for (const bucket of doc.buckets) {
      if (bucket.start < r.triggeredAt - doc.bucketMs || bucket.start >= until) continue;
      if (before.some((p) => (bucket.pids[String(p.pid)] ?? 0) > 0))
        last = Math.max(last, Math.min(bucket.start + doc.bucketMs, until));
    }
    return [last - r.triggeredAt];
  });
}

export function galleryRow(example: string, doc: ResultDocument): GalleryRow {
  const long = lanesOfKind(doc, 'long')[0]?.record;
  const stream = lanesOfKind(doc, 'stream')[0]?.record;
  const streamEnds = stream ? streamFigures(stream) : null;
  return {
    example,
    restart: doc.parameters.server?.restart ?? doc.parameters.strategy,
    passed: doc.passed,
    inconclusive: doc.inconclusive,
    restarts: doc.restarts.length,
    failed: Object.fromEntries(
      lanesOfKind(doc, 'mode').map(({ mode, ledger }) => [
        mode,
        { failed: ledger.failed, causes: ledger.failuresByCause as Record<string, number> },
      ]),
    ),
    switchoverMs: spread(foreignSwitchoverTimes(doc)),
    longLane: long
      ? { path: long.path, written: long.written, cut: long.failuresByCause.cut_in_flight ?? 0, failed: long.failed }
      : null,
    stream:
      stream && streamEnds
        ? { kind: stream.kind, ended: stream.breaks.length, notGraceful: streamEnds.notGraceful, lost: streamEnds.lost }
        : null,
    failedChecks: doc.checks.filter((c) => !c.passed).map((c) => c.id),
  };
}
