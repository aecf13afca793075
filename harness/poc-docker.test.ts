// The CI gate as CI runs it: image built through dockerode, container with
// docker-init and tcp_migrate_req=1, restart.sh through docker exec.
// In CI a missing engine is a failure, never a skip.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, engineAnswers, LABEL } from './runtime/docker/engine.js';
import { explain, runPoc } from '../test/poc-cli.js';

const IMAGE = 'reuseport-lab:test';
const docker = connect();
const engine = await engineAnswers(docker);
const mustRun = engine || Boolean(process.env.CI);
if (!mustRun) console.warn('poc-docker: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

async function containersLeft(): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [LABEL] } });
  return list.map((c) => c.Id.slice(0, 12));
}

const common = ['--runtime', 'docker', '--image', IMAGE, '--restarts', '3', '--interval', '2', '--warmup', '1.5', '--cooldown', '1.5'];

describe.runIf(mustRun)('npm run poc --runtime docker', () => {
  beforeAll(async () => {
    // The first run builds the image; the others reuse it.
    const build = await runPoc([...common, '--restarts', '0', '--warmup', '0.5', '--cooldown', '0.5', '--load', 'churn']);
    expect(build.code, explain(build)).toBe(0);
  }, 600_000);

  afterAll(async () => {
    expect(await containersLeft()).toEqual([]);
  });

  it.each(['keepalive', 'churn'])('passes with zero failed requests across 3 restarts under %s load', async (load) => {
    const run = await runPoc([...common, '--skip-build', '--load', load]);
    expect(run.code, explain(run)).toBe(0);
    expect(run.result!.failedRequests).toBe(0);
    expect(run.result!.runtime.facts).toMatchObject({ runtime: 'docker', tcp_migrate_req: '1' });
    expect(new Set(run.result!.pids.map((p) => p.pid)).size).toBe(4);
    expect(await containersLeft()).toEqual([]);
  }, 120_000);

  it('fails the gate with a naive stop-then-start restart', async () => {
    const run = await runPoc([...common, '--skip-build', '--strategy', 'naive', '--load', 'both']);
    expect(run.code, explain(run)).toBe(1);
    expect(run.result!.failedRequests).toBeGreaterThan(0);
    expect(await containersLeft()).toEqual([]);
  }, 120_000);

  it('on Ctrl-C stops, reports what it saw, exits non-zero and leaves no container', async () => {
    let pid = 0;
    const running = runPoc([...common, '--skip-build', '--restarts', '20'], { onSpawn: (p) => (pid = p) });
    for (let i = 0; i < 100 && (await containersLeft()).length === 0; i++) await sleep(200);
    await sleep(2500);
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SIGINT: stopping the load and cleaning up');
    expect(run.result!.checks).toContainEqual(expect.objectContaining({ name: 'run completed', passed: false }));
    expect(await containersLeft()).toEqual([]);
  }, 120_000);
});
