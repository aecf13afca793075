import { describe, expect, it } from 'vitest';
import { causeOfError, Recorder } from './recorder.js';
import { checkResponse } from './response-check.js';

describe('Recorder buckets', () => {
  const t0 = 1_000_000;

  it('puts an answer at a bucket edge into the bucket that starts there', () => {
    const recorder = new Recorder(100, t0);
    recorder.answer(1, 5, t0 + 99);
    recorder.answer(1, 5, t0 + 100);
    const { buckets } = recorder.snapshot();
    expect(buckets.map((b) => b.pids)).toEqual([{ '1': 1 }, { '1': 1 }]);
    expect(buckets[1]!.start).toBe(t0 + 100);
  });

  it('keeps empty buckets between answers, so time stays linear', () => {
    const recorder = new Recorder(100, t0);
    recorder.answer(1, 1, t0 + 10);
    recorder.answer(1, 1, t0 + 350);
    const { buckets } = recorder.snapshot();
    expect(buckets).toHaveLength(4);
    expect(buckets[1]).toMatchObject({ pids: {}, failures: {}, latency: null });
  });

  it('tracks a PID seen in one bucket only, with first and last times', () => {
    const recorder = new Recorder(100, t0);
    recorder.answer(1, 1, t0 + 10);
    recorder.answer(2, 1, t0 + 120);
    recorder.answer(2, 1, t0 + 150);
    recorder.answer(1, 1, t0 + 250);
    const snapshot = recorder.snapshot();
    expect(snapshot.pids).toEqual([
      { pid: 1, first: t0 + 10, last: t0 + 250, count: 2 },
      { pid: 2, first: t0 + 120, last: t0 + 150, count: 2 },
    ]);
    expect(snapshot.buckets.map((b) => Object.keys(b.pids))).toEqual([['1'], ['2'], ['1']]);
  });

  it('counts failures by cause per bucket and in total', () => {
    const recorder = new Recorder(100, t0);
    recorder.fail('connection_reset', t0 + 5);
    recorder.fail('silent_loss', t0 + 5);
    recorder.fail('connection_reset', t0 + 205);
    const snapshot = recorder.snapshot();
    expect(snapshot.failed).toBe(3);
    expect(snapshot.failuresByCause).toEqual({ connection_reset: 2, silent_loss: 1 });
    expect(snapshot.buckets[0]!.failures).toEqual({ connection_reset: 1, silent_loss: 1 });
  });

  it('summarises latency per bucket as p50, p99 and max', () => {
    const recorder = new Recorder(1000, t0);
    for (let ms = 1; ms <= 100; ms++) recorder.answer(1, ms, t0 + 1);
    expect(recorder.snapshot().buckets[0]!.latency).toEqual({ p50: 50, p99: 99, max: 100 });
  });

  it('has no buckets when nothing was recorded', () => {
    expect(new Recorder(100, t0, () => t0).snapshot()).toMatchObject({ buckets: [], answered: 0, failed: 0, pids: [] });
  });
});

describe('checkResponse', () => {
  it('accepts a 2xx whose body names the PID in X-Server-Pid', () => {
    expect(checkResponse(200, '42', 'OK. Handled by PID: 42\n')).toEqual({ ok: true, pid: 42 });
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
