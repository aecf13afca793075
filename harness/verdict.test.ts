import { describe, expect, it } from 'vitest';
import { Recorder } from './load/recorder.js';
import type { RestartRecord } from './runtime/runtime.js';
import type { ScenarioResult } from './scenario.js';
import { EXIT_TOLERANCE_MS, judge } from './verdict.js';

const t0 = 1_000_000;

function restart(index: number, oldPid: number, newPid: number, at: number, exitCode = 0): RestartRecord {
  return {
    index,
    strategy: 'reuseport',
    version: `v${index + 1}`,
    triggeredAt: at,
    finishedAt: at + 300,
    exitCode,
    oldPid,
    newPid,
    events: [
      { ts: at, event: 'restart_started', old_pid: oldPid },
      { ts: at + 10, event: 'new_started', pid: newPid },
      { ts: at + 100, event: 'new_ready', pid: newPid },
      { ts: at + 110, event: 'old_signalled', pid: oldPid },
      { ts: at + 300, event: 'old_exited', pid: oldPid },
    ],
    messages: '',
    timedOut: null,
  };
}

/** One restart at t0+1000 from PID 1 to PID 2; `feed` adds traffic. */
function scenario(feed: (recorder: Recorder) => void, restarts = [restart(1, 1, 2, t0 + 1000)]): ScenarioResult {
  const recorder = new Recorder(100, t0);
  feed(recorder);
  return {
    options: { strategy: 'reuseport', load: 'keepalive', connections: 1, restarts: restarts.length, intervalMs: 1000, warmupMs: 1000, cooldownMs: 1000, bucketMs: 100, requestTimeoutSeconds: 10 },
    runtime: { kind: 'local', description: 'test', facts: {} },
    target: { host: '127.0.0.1', port: 1, pid: 1 },
    load: recorder.snapshot(),
    inFlightAtStop: 0,
    leftovers: null,
    restarts,
  };
}

const healthy = (r: Recorder) => {
  for (let t = 0; t < 1200; t += 10) r.answer(1, 1, t0 + t);
  for (let t = 1100; t < 3000; t += 10) r.answer(2, 1, t0 + t);
};
const failed = (v: ReturnType<typeof judge>) => v.checks.filter((c) => !c.passed).map((c) => c.name);

describe('judge', () => {
  it('passes a clean handover', () => {
    const verdict = judge(scenario(healthy));
    expect(verdict.passed).toBe(true);
    expect(verdict.failedRequests).toBe(0);
  });

  it('fails on a single failed request, naming the cause', () => {
    const verdict = judge(scenario((r) => (healthy(r), r.fail('silent_loss', t0 + 1200))));
    expect(verdict.passed).toBe(false);
    expect(failed(verdict)).toEqual(['zero failed requests']);
    expect(verdict.checks[0]!.detail).toContain('1 silent_loss');
  });

  it('fails when the restart script did not exit 0', () => {
    expect(failed(judge(scenario(healthy, [restart(1, 1, 2, t0 + 1000, 1)])))).toContain('every restart exited 0');
  });

  it('fails when the new PID never answered', () => {
    const verdict = judge(scenario((r) => { for (let t = 0; t < 3000; t += 10) r.answer(1, 1, t0 + t); }));
    expect(failed(verdict)).toEqual(expect.arrayContaining(['each new PID answered', 'old PID silent after its exit', 'only the newest PID answers at the end']));
  });

  it('fails when the old PID answers after its exit, beyond the tolerance', () => {
    const late = (r: Recorder) => (healthy(r), r.answer(1, 1, t0 + 1300 + EXIT_TOLERANCE_MS + 1));
    expect(failed(judge(scenario(late)))).toContain('old PID silent after its exit');
    const close = (r: Recorder) => (healthy(r), r.answer(1, 1, t0 + 1300 + EXIT_TOLERANCE_MS - 1));
    expect(judge(scenario(close)).passed).toBe(true);
  });

  it('fails an interrupted run even without failures', () => {
    const result = { ...scenario(healthy), interrupted: 'interrupted by SIGINT' };
    expect(failed(judge(result))).toEqual(['run completed']);
  });
});
