// Regroups the measured buckets into display rows: the same numbers, fewer
// rows. Shared by every view so that they agree.
import { type Bucket, withoutResponse } from '../load/recorder.js';
import type { RestartRecord } from '../runtime/runtime.js';

export interface Row {
  start: number;
  end: number;
  pids: Map<number, number>;
  failed: number;
  /** Restart events that fall in this row, e.g. "new_ready 1234". */
  events: string[];
}

/** Merges measured buckets into at most `maxRows` rows covering [startedAt, endedAt). */
export function toRows(buckets: Bucket[], bucketMs: number, restarts: RestartRecord[], maxRows: number): Row[] {
  if (buckets.length === 0) return [];
  const per = Math.max(1, Math.ceil(buckets.length / maxRows));
  const rows: Row[] = [];
  for (let i = 0; i < buckets.length; i += per) {
    const group = buckets.slice(i, i + per);
    const row: Row = {
      start: group[0]!.start,
      end: group[group.length - 1]!.start + bucketMs,
      pids: new Map(),
      failed: 0,
      events: [],
    };
    for (const bucket of group) {
      for (const [pid, count] of Object.entries(bucket.pids))
        row.pids.set(Number(pid), (row.pids.get(Number(pid)) ?? 0) + count);
      row.failed += withoutResponse(bucket.failures);
    }
    rows.push(row);
  }
  for (const restart of restarts) {
    for (const event of restart.events) {
      const row =
        rows.find((r) => event.ts >= r.start && event.ts < r.end) ??
        (event.ts >= rows[rows.length - 1]!.end ? rows[rows.length - 1] : undefined);
      row?.events.push(`${event.event}${event.pid !== undefined ? ` ${event.pid}` : ''}`);
    }
  }
  return rows;
}
