// The zero-downtime gate on the local runtime: real server processes, the
// real restart.sh, real load, inside a private network namespace with
// tcp_migrate_req=1. And the control: a naive restart must fail the gate.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isCI } from '../test/ci.js';
import { explain, runPoc } from '../test/poc-cli.js';
import { cleanup } from '../test/processes.js';
import { alive } from './runtime/processes.js';

afterEach(cleanup);

const root = process.getuid?.() === 0;
const common = [
  '--runtime',
  'local',
  '--restarts',
  '4',
  '--interval',
  '1.5',
  '--warmup',
  '1',
  '--cooldown',
  '1',
  '--overlap',
  '300',
];

describe('npm run poc --runtime local', () => {
  it('runs in a private network namespace with tcp_migrate_req=1 (root), or says it does not', async () => {
    const run = await runPoc([...common, '--restarts', '1', '--load', 'churn']);
    expect(run.result, explain(run)).toBeDefined();
    if (root || isCI()) {
      expect(run.result!.runtime.facts).toMatchObject({ network: 'private network namespace', tcp_migrate_req: '1' });
    } else {
      expect(run.result!.runtime.description).toMatch(/host network .*needs root/);
    }
  });

  it.each(['keepalive', 'churn'])('passes with zero failed requests across 4 restarts under %s load', async (load) => {
    const run = await runPoc([...common, '--load', load]);
    expect(run.code, explain(run)).toBe(0);
    const result = run.result!;
    expect(result.passed).toBe(true);
    expect(run.schemaProblem).toBeNull();
    expect(result.failedRequests).toBe(0);
    expect(result.totalRequests).toBeGreaterThan(1000);
    expect(result.restarts.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    // Old only, then both, then new only: every PID of the chain answered.
    expect(result.pids.map((p) => p.pid)).toEqual([
      result.restarts[0]!.oldPid,
      ...result.restarts.map((r) => r.newPid),
    ]);
    expect(run.stdout).toContain('PASSED');
  });

  it('fails the gate with a naive stop-then-start restart', async () => {
    const run = await runPoc([...common, '--strategy', 'naive', '--load', 'both']);
    expect(run.code, explain(run)).toBe(1);
    expect(run.result!.passed).toBe(false);
    expect(run.schemaProblem).toBeNull();
    expect(run.result!.failedRequests).toBeGreaterThan(0);
    expect(run.stdout).toContain('FAILED');
  });

  it('on Ctrl-C reports what it saw, exits 130 and leaves no server running', async () => {
    let pid = 0;
    let onRun!: () => void;
    const underway = new Promise<void>((resolve) => (onRun = resolve));
    // "rates:" is printed once the calibration is over and the load begins.
    const running = runPoc([...common, '--restarts', '20', '--load', 'keepalive'], {
      onSpawn: (p) => (pid = p),
      onStdout: (out) => out.includes('rates:') && onRun(),
    });
    await underway;
    await sleep(1500);
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code, explain(run)).toBe(130);
    expect(run.result!.checks).toContainEqual(expect.objectContaining({ id: 'run-completed', passed: false }));
    expect(run.schemaProblem).toBeNull();
    // Every server of the run: the first one, and each restart's new one.
    const servers = [run.result!.target.pid, ...run.result!.restarts.map((r) => r.newPid)].filter(
      (p): p is number => typeof p === 'number',
    );
    expect(servers.filter(alive)).toEqual([]);
  }, 60_000);

  it('on Ctrl-C during the calibration reports an interrupted run with nothing measured, and leaves no server running', async () => {
    let pid = 0;
    let onRun!: () => void;
    const underway = new Promise<void>((resolve) => (onRun = resolve));
    // "runtime:" is printed once the run's own Ctrl-C handling is in place, just before the calibration.
    const running = runPoc([...common, '--load', 'keepalive'], {
      onSpawn: (p) => (pid = p),
      onStdout: (out) => out.includes('runtime:') && onRun(),
    });
    await underway;
    await sleep(300);
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code, explain(run)).toBe(130);
    expect(run.stdout).not.toContain('rates:');
    expect(run.result!.interrupted).toMatchObject({
      reason: 'interrupted by SIGINT during the calibration, before any load',
    });
    expect(run.result!).toMatchObject({ written: 0, calibration: null, restarts: [] });
    expect(run.schemaProblem).toBeNull();
    expect([run.result!.target.pid].filter(alive)).toEqual([]);
  }, 60_000);

  it('a rate the harness cannot send is inconclusive (exit 3), said in one line, never a pass or a failure', async () => {
    const run = await runPoc([
      '--runtime',
      'local',
      '--load',
      'churn',
      '--rate',
      '100000',
      '--restarts',
      '1',
      '--interval',
      '1',
      '--warmup',
      '1',
      '--cooldown',
      '0',
    ]);
    expect(run.code, run.stdout.slice(-2000) + run.stderr).toBe(3);
    const verdict = run.stdout.split('\n').filter((line) => /^(PASSED|FAILED|INCONCLUSIVE)/.test(line));
    expect(verdict).toEqual([expect.stringMatching(/^INCONCLUSIVE: the load generator fell behind its schedule/)]);
    expect(run.result!.checks.find((c) => c.id === 'load-on-schedule')).toMatchObject({
      passed: false,
      inconclusive: true,
      detail: expect.stringMatching(/^inconclusive, the load generator fell behind: new connection per request: /),
    });
    expect(run.result).toMatchObject({ passed: false, inconclusive: true });
  }, 60_000);

  it('reports usage errors in one line with exit 2', async () => {
    const run = await runPoc(['--connections', 'lots']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('--connections "lots" is not valid');
  });
});
