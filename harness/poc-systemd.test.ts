// The systemd designs end to end, as `npm run poc -- --strategy ...` runs
// them: systemd as PID 1 in the image's systemd target, the switch scripts in
// scripts/systemd/ through docker exec. In CI a missing engine is a failure,
// never a skip; only containers that appeared during the tests are touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, engineAnswers, LABEL } from './runtime/docker/engine.js';
import { timelineOf } from './strategies/timeline.js';
import { isCI } from '../test/ci.js';
import { explain, runPoc } from '../test/poc-cli.js';

const IMAGE = 'reuseport-lab:test';
const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun)
  console.warn('poc-systemd: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

let before = new Set<string>();
const labelled = async () =>
  (await docker.listContainers({ all: true, filters: { label: [LABEL] } })).map((c) => c.Id.slice(0, 12));
const containersLeft = async () => (await labelled()).filter((id) => !before.has(id));

const common = [
  '--runtime',
  'docker',
  '--image',
  IMAGE,
  '--skip-build',
  '--restarts',
  '3',
  '--interval',
  '2',
  '--warmup',
  '1.5',
  '--cooldown',
  '1.5',
  '--load',
  'both',
];
const failing = (run: Awaited<ReturnType<typeof runPoc>>) =>
  run.result!.checks.filter((c) => !c.passed).map((c) => c.id);

describe.runIf(mustRun)('the systemd designs, under load, in Docker', () => {
  beforeAll(async () => {
    before = new Set(await labelled());
    // Builds reuseport-lab:test-systemd (the systemd target) once; the tests reuse it.
    const build = await runPoc([
      ...common.filter((arg) => arg !== '--skip-build'),
      '--strategy',
      'systemd-socket',
      '--restarts',
      '1',
      '--load',
      'churn',
    ]);
    expect(build.code, explain(build)).toBe(0);
  }, 900_000);

  afterAll(async () => {
    expect(await containersLeft()).toEqual([]);
  });

  it.each(['systemd-bluegreen', 'systemd-socket', 'systemd-socket-bluegreen'])(
    '%s: zero failed requests in both load modes, latency and stall checks applied',
    async (strategy) => {
      const run = await runPoc([...common, '--strategy', strategy]);
      expect(run.code, explain(run)).toBe(0);
      expect(run.schemaProblem).toBeNull();
      expect(run.result!.runtime.description).toContain('systemd as PID 1');
      expect(run.result!.checks.map((c) => c.id)).toEqual(
        expect.arrayContaining(['zero-failed-requests', 'latency-budget', 'no-stall', 'old-server-ending']),
      );
      expect(run.result!.failedRequests).toBe(0);
      // The first server and one per restart, each started by systemd and each answering.
      expect(new Set(run.result!.pids.map((p) => p.pid)).size).toBe(4);
      expect(run.result!.restarts.every((r) => r.events.some((e) => e.event === 'new_ready'))).toBe(true);
      expect(await containersLeft()).toEqual([]);
    },
    180_000,
  );

  it('systemd-socket: a long request makes new clients wait in the socket queue for its whole length, and the gate says so', async () => {
    const run = await runPoc([
      ...common,
      '--strategy',
      'systemd-socket',
      '--fault',
      'slow-request',
      '--interval',
      '3',
      '--restarts',
      '2',
    ]);
    expect(run.code, explain(run)).toBe(1);
    // Nothing refused or reset: the old server finished the long request, everyone else waited for it.
    expect(run.result!.checks.find((c) => c.id === 'long-request')).toMatchObject({ passed: true });
    expect(failing(run)).toEqual(expect.arrayContaining(['latency-budget', 'no-stall']));
    expect(Object.keys(run.result!.failuresByCause)).toEqual(['slow']);
    // The old server stayed for the long request (an idle one was gone in 0.16-0.29 s here) ...
    const { oldSignalledAt, oldGoneAt } = timelineOf(run.result!.restarts[0]!);
    const drained = oldGoneAt! - oldSignalledAt!;
    expect(drained).toBeGreaterThan(1000);
    // ... and a client that came after its signal waited all that time, plus the new server's start.
    const waited = (run.result as unknown as { switchovers: { index: number; stats: { latency: { max: number } } }[] })
      .switchovers[0]!.stats.latency.max;
    expect(waited, `restart #1's events: ${JSON.stringify(run.result!.restarts[0]!.events)}`).toBeGreaterThan(drained);
  }, 180_000);

  it('systemd-bluegreen: an old server draining past TimeoutStopSec is killed by systemd, and the gate says who killed it', async () => {
    const run = await runPoc([
      ...common,
      '--strategy',
      'systemd-bluegreen',
      '--fault',
      'stop-timeout',
      '--interval',
      '3',
      '--restarts',
      '2',
      '--load',
      'keepalive',
    ]);
    expect(run.code, explain(run)).toBe(1);
    expect(run.result!.restarts[0]!.events).toContainEqual(
      expect.objectContaining({ event: 'old_killed', by: 'systemd' }),
    );
    expect(run.result!.checks.find((c) => c.id === 'old-server-ending')).toMatchObject({
      passed: false,
      detail: expect.stringContaining('killed by systemd'),
    });
    expect(await containersLeft()).toEqual([]);
  }, 180_000);

  it('systemd-socket-bluegreen: a new version that crashes at start is rolled back, the old colour keeps serving, nothing fails', async () => {
    const run = await runPoc([
      ...common,
      '--strategy',
      'systemd-socket-bluegreen',
      '--fault',
      'crash-at-start',
      '--restarts',
      '2',
      '--load',
      'keepalive',
    ]);
    expect(run.code, explain(run)).toBe(0);
    expect(run.result!.restarts[0]!.events).toContainEqual(
      expect.objectContaining({ event: 'rolled_back', reason: expect.stringContaining('status 3') }),
    );
    expect(run.result!.checks.find((c) => c.id === 'rolled-back')).toMatchObject({ passed: true });
    expect(run.result!.failedRequests).toBe(0);
  }, 180_000);

  it('refuses a fault that cannot happen in a design, in one line, before starting anything', async () => {
    const run = await runPoc(['--strategy', 'systemd-socket', '--fault', 'crash-at-start']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^reuseport-lab: --fault crash-at-start does not apply to --strategy systemd-socket: systemctl restart stops the old server before/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
