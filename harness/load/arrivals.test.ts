// The open model's clock and its record: requests fall due on the schedule
// whatever else happens, one the harness could only hand out late is
// counted late, and the record files every request by when it fell due.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { Arrivals, epochOf, LATE_SEND_MS, ScheduleRecorder } from './arrivals.js';

/** Blocks the event loop for `ms`, as a starved or busy harness is. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Arrivals', () => {
  it('hands out requests in order, each at its own due time, one every 1000/rate ms from the start', async () => {
    const handed: { seq: number; dueAt: number; at: number }[] = [];
    const arrivals = new Arrivals(500, (seq, dueAt) => handed.push({ seq, dueAt, at: performance.now() }));
    arrivals.start();
    await sleep(300);
    arrivals.stop();
    const count = handed.length;
    await sleep(50);
    expect(handed).toHaveLength(count); // nothing after stop()
    expect(count).toBeGreaterThan(100);
    expect(handed.map((h) => h.seq)).toEqual([...Array(count).keys()]);
    for (const h of handed) {
      expect(h.dueAt).toBeCloseTo(arrivals.startAt + h.seq * 2, 6);
      expect(h.at).toBeGreaterThanOrEqual(h.dueAt);
    }
  });

  it('hands out what fell due while the harness was blocked as soon as it runs again, late, without skipping any', async () => {
    const recorder = new ScheduleRecorder(1000, 10, Date.now(), 100);
    const seqs: number[] = [];
    const arrivals = new Arrivals(1000, (seq, dueAt) => {
      seqs.push(seq);
      recorder.due(epochOf(dueAt), performance.now() - dueAt);
    });
    arrivals.start();
    await sleep(50);
    block(300);
    await sleep(50);
    arrivals.stop();
    const record = recorder.record();
    expect(seqs).toEqual([...Array(seqs.length).keys()]);
    // The requests due in the first ~200 ms of the block were handed out over LATE_SEND_MS late.
    expect(record.late).toBeGreaterThan(150);
    expect(record.lagMaxMs).toBeGreaterThanOrEqual(250);
    expect(record.due).toBe(seqs.length);
  });
});

describe('ScheduleRecorder', () => {
  it('files each request by when it fell due, in the load buckets, and sums them', () => {
    const t0 = 1_000_000;
    const recorder = new ScheduleRecorder(100, 4, t0, 250);
    recorder.due(t0 + 10, 2);
    recorder.due(t0 + 260, LATE_SEND_MS + 1);
    recorder.waited(t0 + 260);
    recorder.waitOver(t0 + 260, 50);
    recorder.due(t0 + 600, 0);
    recorder.waited(t0 + 600);
    recorder.waitOver(t0 + 600, LATE_SEND_MS + 20);
    recorder.answered(t0 + 10);
    recorder.answered(t0 + 600);
    recorder.connections(3);
    recorder.connections(2);
    expect(recorder.record()).toEqual({
      ratePerSecond: 100,
      maxConnections: 4,
      due: 3,
      late: 1,
      waited: 2,
      waitedLate: 1,
      lagMaxMs: 101,
      connectionsMax: 3,
      buckets: [
        { due: 1, answered: 1, late: 0, waited: 0, waitedLate: 0, lagMaxMs: 2 },
        { due: 1, answered: 0, late: 1, waited: 1, waitedLate: 0, lagMaxMs: 101 },
        { due: 1, answered: 1, late: 0, waited: 1, waitedLate: 1, lagMaxMs: 0 },
      ],
    });
  });
});

describe('epochOf', () => {
  it('files a performance.now() reading on the wall clock that restart events use', () => {
    expect(Math.abs(epochOf(performance.now()) - Date.now())).toBeLessThanOrEqual(1);
  });

  it('follows the wall clock when it is stepped, as restart events do', () => {
    const reading = performance.now();
    const wall = Date.now();
    const stepped = vi.spyOn(Date, 'now').mockReturnValue(wall + 590);
    try {
      expect(epochOf(reading)).toBeGreaterThanOrEqual(wall + 590 - 1 - (performance.now() - reading));
      expect(epochOf(reading)).toBeLessThanOrEqual(wall + 590);
    } finally {
      stepped.mockRestore();
    }
  });
});
