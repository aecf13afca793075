// Fleets on Docker Swarm (issue 21): our server as a 3-replica service behind
// HAProxy (scripts/swarm/fleet.sh), updated by the swarm itself while the
// gate loads it, and the Go seed the same way with wrk beside the gate. The
// machine is left as found: a swarm this test initialised is left again,
// one that was there is untouched. In CI a missing engine fails, never skips.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { isCI } from '../../../../test/ci.js';
import { explain, type PocRun, runReporting } from '../../../../test/poc-cli.js';
import { ROOT, tempDir } from '../../../../test/processes.js';
import { SetupError } from '../../../errors.js';
import { buildImage } from '../../docker/build-image.js';
import { connect, engineAnswers } from '../../docker/engine.js';
import { FLEET_SCRIPT, fleetScript } from './fleet-script.js';
import { inspectService } from './swarm-runtime.js';

const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun) console.warn('swarm: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

const OURS = 'reuseport-lab:test';
const GO_SEED = 'reuseport-lab-example/go-seed:test';
const STACK = 'rplabtest';
const SERVICE = `${STACK}_web`;
const GO_SERVICE = `${STACK}_go`;
/** HAProxy as it comes (a DNS answer holds 10 s, a replica is out after 3 failed checks 2 s apart) and no retries: what the server's grace must cover. */
const SLOW_LB = { LB_RETRY: 'off', RESOLVE_HOLD: '10s', CHECK_INTERVAL_MS: '2000', CHECK_FALL: '3' };

/** A network the engine refuses to remove for its active endpoints while no container is on it. */
async function endpointLeaked(name: string): Promise<boolean> {
  const network = docker.getNetwork(name);
  const { Containers } = (await network.inspect()) as { Containers?: Record<string, unknown> };
  if (Object.keys(Containers ?? {}).length > 0) return false;
  try {
    await network.remove();
    return false;
  } catch (error) {
    return /active endpoints/.test((error as Error).message);
  }
}

const swarmState = async () => ((await docker.info()) as { Swarm: { LocalNodeState: string } }).Swarm.LocalNodeState;

/**
 * `reuseport-lab gate`, as a user runs it, with one update under load. 20
 * connections per mode, not 50: during an update this machine's 2 cores also
 * run 4 to 6 replicas starting, draining and health-checked every second,
 * HAProxy and the engine, and at 50 the gate's own event loop was starved
 * for up to 476 ms (a stall of the measurement, which no-stall then fails).
 */
function gate(args: string[]): Promise<PocRun> {
  const reportDir = tempDir('reuseport-lab-swarm-');
  const argv = [
    join(ROOT, 'dist/harness/cli.js'),
    'gate',
    '--report-dir',
    reportDir,
    '--restarts',
    '1',
    '--warmup',
    '2',
    '--cooldown',
    '2',
    '--connections',
    '20',
    '--restart-timeout',
    '120',
    ...args,
  ];
  return runReporting(process.execPath, argv, reportDir);
}

/** What the swarm says of a service's tasks, for an assertion's message. */
const servicePs = (service: string) =>
  spawnSync(
    'docker',
    ['service', 'ps', '--no-trunc', '--format', '{{.Name}} {{.DesiredState}} {{.CurrentState}} {{.Error}}', service],
    { encoding: 'utf8' },
  ).stdout;
/** Every task the run recorded, times in seconds from the run's start: what the swarm did around it. */
const taskHistory = (run: PocRun) => {
  const startedAt = run.result?.startedAt ?? 0;
  const at = (time: number | null) => (time === null ? '-' : ((time - startedAt) / 1000).toFixed(1));
  return (run.result?.fleet?.tasks ?? [])
    .map(
      (t) =>
        `${t.slot}.${t.container} ${t.state} created ${at(t.createdAt)} running ${at(t.runningAt)} ended ${at(t.endedAt)}${t.error ? ` (${t.error})` : ''}`,
    )
    .join('\n');
};
const evidence = (run: PocRun, service: string) =>
  `${explain(run)}\ntasks recorded:\n${taskHistory(run)}\nservice ps:\n${servicePs(service)}`;
const check = (run: PocRun, id: string) => run.result?.checks.find((c) => c.id === id);
const update = (service: string, env: string[] = []) =>
  spawnSync('docker', ['service', 'update', '--quiet', ...env.flatMap((e) => ['--env-add', e]), service], {
    encoding: 'utf8',
    timeout: 180_000,
  });

describe.runIf(mustRun)('gate --swarm-service', () => {
  let hadSwarm = false;
  let notActive: PocRun | undefined;
  let url = '';
  let slowUrl = '';
  let networksBefore: string[] = [];
  const networks = async () => (await docker.listNetworks()).map((n) => n.Name).sort();
  // Ctrl-C while the fleet is up: take it down before going.
  const onInterrupt = () => {
    spawnSync('sh', [FLEET_SCRIPT, 'down', STACK], { stdio: 'inherit' });
    process.exit(130);
  };

  beforeAll(async () => {
    networksBefore = await networks();
    hadSwarm = (await swarmState()) === 'active';
    if (!hadSwarm) notActive = await gate(['--swarm-service', 'anything']);
    process.once('SIGINT', onInterrupt);
    await buildImage(docker, { contextDir: ROOT, image: OURS, nodeVersion: '24' });
    await buildImage(docker, {
      contextDir: join(ROOT, 'examples'),
      dockerfile: 'go-seed/Dockerfile',
      target: 'example',
      image: GO_SEED,
      nodeVersion: '24',
    });
    url = fleetScript(['up', STACK], { IMAGE: OURS, REPLICAS: '3', DRAIN_LISTEN_GRACE_MS: '3000' }).url!;
    slowUrl = fleetScript(['lb', STACK, 'slow'], SLOW_LB).url!;
  }, 900_000);

  afterAll(async () => {
    process.removeListener('SIGINT', onInterrupt);
    fleetScript(['down', STACK]);
    expect(await swarmState()).toBe(hadSwarm ? 'active' : 'inactive');
    if (!hadSwarm) {
      const after = await networks();
      // Debian's engine at times keeps counting an endpoint on docker_gwbridge that the leave removed
      // (no container on it, and it logs "Fixing inconsistent endpoint_cnt" at its next start): only
      // an engine restart frees it, and fleet.sh says so. Anything else left fails here.
      const leaked =
        !networksBefore.includes('docker_gwbridge') &&
        after.includes('docker_gwbridge') &&
        (await endpointLeaked('docker_gwbridge'));
      if (leaked)
        console.warn('swarm: the engine kept docker_gwbridge counting a removed endpoint; restart dockerd to free it');
      expect(leaked ? after.filter((n) => n !== 'docker_gwbridge') : after).toEqual(networksBefore);
    }
    expect(
      (await docker.listContainers({ all: true, filters: { label: [`reuseport-lab.fleet=${STACK}`] } })).length,
    ).toBe(0);
  }, 300_000);

  it('passes a start-first update of 3 replicas with the drain grace: 0 failed in both load modes, every new task answered, none after it ended', async () => {
    const run = await gate(['--swarm-service', SERVICE, '--url', url]);
    expect(run.code, evidence(run, SERVICE)).toBe(0);
    expect(run.schemaProblem).toBeNull();
    for (const mode of run.result!.modes) expect(mode.failed, mode.mode).toBe(0);
    expect(check(run, 'tasks-answered')).toMatchObject({
      passed: true,
      detail: expect.stringMatching(/^3 new task\(s\), each answered/),
    });
    expect(check(run, 'task-silent-after-end')).toMatchObject({
      passed: true,
      detail: '3 task(s) ended, none answered afterwards',
    });
    expect(check(run, 'fleet-converged')).toMatchObject({ passed: true });
    // Identity per replica: the 3 old and 3 new containers, by host name. The record also keeps
    // tasks that ended shortly before the run (a balancer may still send to them); those could not
    // answer in it. (A CI run recorded 3 such tasks on a stack deployed seconds before; why the
    // swarm replaced them is in the evidence should it happen again.)
    const fleetRecord = run.result!.fleet!;
    const alive = fleetRecord.tasks.filter((t) => t.endedAt === null || t.endedAt >= run.result!.startedAt);
    expect(Object.values(run.result!.identityNames!).sort(), evidence(run, SERVICE)).toEqual(
      alive.map((t) => t.container).sort(),
    );
    expect(
      alive.filter((t) => t.stoppingAt !== null && t.endedAt !== null),
      evidence(run, SERVICE),
    ).toHaveLength(3);
  }, 300_000);

  it('fails the same update without the grace behind a load balancer that notices late, naming the stopping replica', async () => {
    expect(update(SERVICE, ['DRAIN_LISTEN_GRACE_MS=0']).status).toBe(0);
    // A rate of its own: the slow balancer still routes to the tasks that update just ended, and
    // answers nothing valid for longer than the calibration waits (it says so, and to give --rate).
    const run = await gate(['--swarm-service', SERVICE, '--url', slowUrl, '--rate', '200']);
    expect(run.code, explain(run)).toBe(1);
    expect(check(run, 'zero-failed-requests')).toMatchObject({ passed: false });
    // Put down to a replica and to whose share it is: its port closed after its stop signal while the
    // balancer still sent to it, or the balancer still sent to it after it had ended.
    const losses = check(run, 'losses-by-task');
    expect(losses?.passed).toBe(false);
    expect(losses?.detail).toMatch(
      /^\d+ when (the load balancer's: it still sent requests to a task that had ended|the server closed its port before the load balancer stopped sending to it)/,
    );
    expect(losses?.detail).toMatch(
      new RegExp(
        `lost at .* while ${SERVICE}\\.\\d \\(container [0-9a-f]{12}\\) (had been sent its stop signal|had ended) at`,
      ),
    );
  }, 300_000);

  it('agrees with wrk on the Go seed as a 3-replica service updated start-first', async () => {
    const created = spawnSync(
      'docker',
      [
        'service',
        'create',
        '--quiet',
        '--name',
        GO_SERVICE,
        '--network',
        `${STACK}_fleet`,
        '--endpoint-mode',
        'dnsrr',
        '--replicas',
        '3',
        '--update-order',
        'start-first',
        '--no-resolve-image',
        '--label',
        `reuseport-lab.fleet=${STACK}`,
        GO_SEED,
      ],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(created.status, created.stderr).toBe(0);
    const goUrl = fleetScript(['lb', STACK, 'go'], { ...SLOW_LB, SERVICE: GO_SERVICE, WAIT_REPLICAS: '0' }).url!;
    // wrk runs from before the gate starts until it is done (SIGINT: wrk stops and prints what it saw), so
    // it sees the whole update, however long the gate took to start on a busy machine; 120 s at most.
    const wrkChild = spawn('wrk', ['-t1', '-c8', '-d120s', goUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
    const wrk = new Promise<string>((resolve) => {
      let out = '';
      wrkChild.stdout.on('data', (chunk) => (out += chunk));
      wrkChild.on('close', () => resolve(out));
    });
    const run = await gate(['--swarm-service', GO_SERVICE, '--url', goUrl, '--identity', 'none', '--warmup', '3']);
    wrkChild.kill('SIGINT');
    const wrkOut = await wrk;
    const wrkErrors =
      Number(/Non-2xx or 3xx responses: (\d+)/.exec(wrkOut)?.[1] ?? 0) +
      [...wrkOut.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(wrkOut).toMatch(/requests in/);
    // One verdict: both saw losses, or neither did.
    expect(
      { gateFailed: run.result!.failedRequests > 0, wrkFailed: wrkErrors > 0 },
      `${explain(run)}\nwrk: ${wrkOut}`,
    ).toEqual({ gateFailed: run.code === 1, wrkFailed: run.code === 1 });
    expect(run.code === 0 || run.code === 1, explain(run)).toBe(true);
  }, 300_000);

  it('refuses a service it cannot gate in one line, exit 4: no such service, no published port, swarm not active', async () => {
    const missing = await gate(['--swarm-service', 'no-such-service']);
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim()).toMatch(
      /^reuseport-lab: --swarm-service no-such-service: no such service on this engine; docker service ls lists them$/,
    );
    const unpublished = await gate(['--swarm-service', SERVICE]);
    expect(unpublished.code).toBe(4);
    expect(unpublished.stderr.trim()).toMatch(
      new RegExp(
        `^reuseport-lab: --swarm-service ${SERVICE} publishes no port; .* or give the load balancer in front of it with --url$`,
      ),
    );
    if (notActive) {
      expect(notActive.code).toBe(4);
      expect(notActive.stderr.trim()).toMatch(
        /^reuseport-lab: --swarm-service anything: this Docker engine is not a swarm manager \(swarm mode is not active\); run docker swarm init, or scripts\/swarm\/fleet\.sh up$/,
      );
    }
    // On a machine that already had a swarm, the engine's refusal is read the same way.
    const refusing = {
      getService: () => ({
        inspect: () =>
          Promise.reject(Object.assign(new Error('This node is not a swarm manager.'), { statusCode: 503 })),
      }),
    } as unknown as Docker;
    await expect(inspectService(refusing, 'web')).rejects.toThrow(SetupError);
  }, 120_000);
});
