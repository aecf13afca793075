import { describe, expect, it } from 'vitest';
import { causeOfError, Recorder, tee } from './recorder.js';
import { checkResponse } from './response-check.js';

const t0 = 1_000_000;

describe('Recorder buckets', () => {
  it('puts an answer at a bucket edge into the bucket that starts there', () => {
    const recorder = new Recorder(100, 100, t0);
    recorder.answer(1, 'v1', 5, t0 + 99);
    recorder.answer(1, 'v1', 5, t0 + 100);
    const { buckets } = recorder.snapshot();
    expect(buckets.map((b) => b.pids)).toEqual([{ '1': 1 }, { '1': 1 }]);
    expect(buckets.map((b) => b.answered)).toEqual([1, 1]);
    expect(buckets[1]!.start).toBe(t0 + 100);
  });

  it('keeps empty buckets between answers, so time stays linear', () => {
    const recorder = new Recorder(100, 100, t0);
    recorder.answer(1, 'v1', 1, t0 + 10);
    recorder.answer(1, 'v1', 1, t0 + 350);
    const { buckets } = recorder.snapshot();
    expect(buckets).toHaveLength(4);
    expect(buckets[1]).toMatchObject({ answered: 0, pids: {}, failures: {}, latency: null });
  });

  it('tracks each PID with first and last times and every version it answered with', () => {
    const recorder = new Recorder(100, 100, t0);
    recorder.answer(1, 'v1', 1, t0 + 10);
    recorder.answer(2, 'v2', 1, t0 + 120);
    recorder.answer(2, 'v1', 1, t0 + 150);
    recorder.answer(1, 'v1', 1, t0 + 250);
    expect(recorder.snapshot().pids).toEqual([
      { pid: 1, first: t0 + 10, last: t0 + 250, count: 2, versions: ['v1'] },
      { pid: 2, first: t0 + 120, last: t0 + 150, count: 2, versions: ['v2', 'v1'] },
    ]);
  });

  it('counts failures by cause per bucket and in total', () => {
    const recorder = new Recorder(100, 100, t0);
    recorder.fail('connection_reset', t0 + 5);
    recorder.fail('silent_loss', t0 + 5);
    recorder.fail('connection_reset', t0 + 205);
    const snapshot = recorder.snapshot();
    expect(snapshot.failed).toBe(3);
    expect(snapshot.failuresByCause).toEqual({ connection_reset: 2, silent_loss: 1 });
    expect(snapshot.buckets[0]!.failures).toEqual({ connection_reset: 1, silent_loss: 1 });
  });

  it("summarises latency per bucket as p50, p99 and max, within the histogram's 1% precision", () => {
    const recorder = new Recorder(1000, 100, t0);
    for (let ms = 1; ms <= 100; ms++) recorder.answer(1, 'v1', ms, t0 + 1);
    const latency = recorder.snapshot().buckets[0]!.latency!;
    expect(latency.count).toBe(100);
    expect(Math.abs(latency.p50 - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(latency.p99 - 99)).toBeLessThanOrEqual(1);
    expect(Math.abs(latency.max - 100)).toBeLessThanOrEqual(1);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
  });

  it('has no buckets when nothing was recorded', () => {
    expect(new Recorder(100, 100, t0, () => t0).snapshot()).toMatchObject({
      buckets: [],
      written: 0,
      answered: 0,
      failed: 0,
      pids: [],
    });
  });
});

describe('Recorder: every request accounted for', () => {
  it('keeps every judged response at or above its floor exactly, and the age of each request unanswered at stop; applies no budget', () => {
    const recorder = new Recorder(100, 100, t0);
    for (let i = 0; i < 4; i++) recorder.written();
    recorder.answer(7, 'v1', 99.9994, t0 + 10);
    recorder.answer(7, 'v1', 2500.12345, t0 + 20);
    recorder.answer(7, 'v1', 4000, t0 + 30, false);
    recorder.stoppedWith([10.4, 1500]);
    const snapshot = recorder.snapshot();
    expect(snapshot).toMatchObject({ written: 4, answered: 3, failed: 0, inFlightAtStop: 2, failuresByCause: {} });
    expect(snapshot.tail).toEqual({ aboveMs: 100, responses: [[t0 + 20, 2500.123]], unansweredAtStop: [10, 1500] });
    expect([recorder.slowerThan(1000), recorder.slowerThan(2500.123)]).toEqual([1, 0]);
    // The one long on purpose is counted, but in no latency figure.
    expect(snapshot.buckets[0]!.latency!.count).toBe(2);
  });

  it('keeps what settles after the end out of the buckets, but in the totals and causes', () => {
    const recorder = new Recorder(100, 100, t0);
    recorder.answer(1, 'v1', 1, t0 + 10);
    recorder.end(t0 + 150);
    recorder.answer(1, 'v1', 1, t0 + 160);
    recorder.fail('connection_reset', t0 + 170);
    const snapshot = recorder.snapshot();
    expect(snapshot).toMatchObject({
      endedAt: t0 + 150,
      answered: 2,
      failed: 1,
      failuresByCause: { connection_reset: 1 },
    });
    expect(snapshot.buckets).toHaveLength(1);
    expect(snapshot.pids[0]!.count).toBe(2);
  });

  it('merges the buckets that overlap a window', () => {
    const recorder = new Recorder(100, 100, t0);
    for (let i = 0; i < 10; i++) recorder.answer(1, 'v1', 10, t0 + i * 50);
    recorder.answer(2, 'v2', 400, t0 + 260);
    recorder.fail('silent_loss', t0 + 270);
    const window = recorder.window(t0 + 200, t0 + 300);
    expect(window).toMatchObject({ answered: 3, failed: 1 });
    expect(Math.abs(window.latency!.max - 400)).toBeLessThanOrEqual(4);
    expect(recorder.window(t0 + 5000, t0 + 6000)).toEqual({ answered: 0, failed: 0, latency: null });
  });

  it("keeps an older bucket's latencies exactly once it is compressed, and still takes a late answer there", () => {
    const recorder = new Recorder(100, 100, t0);
    for (let i = 1; i <= 200; i++) recorder.answer(1, 'v1', i / 4, t0 + (i % 100));
    const live = recorder.snapshot().buckets[0]!.latency;
    const liveWindow = recorder.window(t0, t0 + 100);
    recorder.answer(1, 'v1', 1, t0 + 1000); // ten buckets on: bucket 0 is settled now
    expect(recorder.snapshot().buckets[0]!.latency).toEqual(live);
    expect(recorder.window(t0, t0 + 100)).toEqual(liveWindow);
    recorder.answer(2, 'v1', 900, t0 + 50);
    expect(recorder.snapshot().buckets[0]).toMatchObject({
      answered: 201,
      pids: { '1': 200, '2': 1 },
      latency: { count: 201 },
    });
    expect(recorder.window(t0, t0 + 100).latency!.max).toBeGreaterThanOrEqual(891);
    expect(recorder.window(t0 - 500, t0 - 100)).toEqual({ answered: 0, failed: 0, latency: null });
  });

  it('tee reports the same request to several recorders at the same time', () => {
    const [a, b] = [new Recorder(100, 100, t0), new Recorder(100, 100, t0)];
    const both = tee(a, b);
    both.written();
    both.answer(3, 'v1', 5, t0 + 42);
    both.fail('timeout', t0 + 142);
    for (const recorder of [a, b]) recorder.end(t0 + 200);
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.snapshot()).toMatchObject({ written: 1, answered: 1, failed: 1 });
  });
});

describe('checkResponse', () => {
  it('accepts a 2xx whose body names the PID in X-Server-Pid, with its version', () => {
    expect(checkResponse(200, '42', 'OK. Handled by PID: 42\n', 'v3')).toEqual({ ok: true, pid: 42, version: 'v3' });
  });
  it.each([
    [503, '42', 'OK. Handled by PID: 42\n', 'non_2xx'],
    [200, '42', 'OK. Handled by PID: 4', 'corrupt_body'],
    [200, '42', 'OK. Handled by PID: 42\nHTTP/1.1 200 OK', 'corrupt_body'],
    [200, '43', 'OK. Handled by PID: 42\n', 'corrupt_body'],
    [200, undefined, 'OK. Handled by PID: 42\n', 'corrupt_body'],
  ])('status %i, header %s, body %j is %s', (status, header, body, cause) => {
    expect(checkResponse(status, header, body)).toEqual({ ok: false, cause });
  });
  it('maps socket errors to causes', () => {
    expect(causeOfError(Object.assign(new Error(), { code: 'ECONNRESET' }))).toBe('connection_reset');
    expect(causeOfError(Object.assign(new Error(), { code: 'ECONNREFUSED' }))).toBe('connection_refused');
    expect(causeOfError(new Error('odd'))).toBe('other_error');
  });
});
