// The gate as an image (Dockerfile.gate, built by scripts/gate-image.sh from
// `npm pack` of this checkout), run as a CI system without Node runs it:
// `docker run --rm -v /var/run/docker.sock:... reuseport-lab-gate gate ...`.
// It gates images on the host's engine, reaching their containers at their
// own addresses, and leaves no container behind, its own included.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../harness/runtime/docker/build-image.js';
import { connect, engineAnswers } from '../harness/runtime/docker/engine.js';
import { isCI } from './ci.js';
import { ROOT, SCRIPTS } from './processes.js';

const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun)
  console.warn('gate image: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

const GATE = 'reuseport-lab-gate:test';
const OURS = 'reuseport-lab:test';
const GO_SEED = 'reuseport-lab-example/go-seed:test';

const allContainers = async () =>
  (await docker.listContainers({ all: true })).map((c) => `${c.Id.slice(0, 12)} ${c.Image}`);

/** `docker run --rm` of the gate image with the engine's socket, as the README shows it. */
function gateInContainer(args: string[]) {
  const run = spawnSync(
    'docker',
    [
      'run',
      '--rm',
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock',
      GATE,
      'gate',
      '--restarts',
      '2',
      '--interval',
      '2',
      '--warmup',
      '1.5',
      '--cooldown',
      '1.5',
      ...args,
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.runIf(mustRun)('the gate image', () => {
  let before: string[] = [];

  beforeAll(async () => {
    before = await allContainers();
    await buildImage(docker, { contextDir: ROOT, image: OURS, nodeVersion: '24' });
    await buildImage(docker, {
      contextDir: join(ROOT, 'examples'),
      dockerfile: 'go-seed/Dockerfile',
      target: 'example',
      image: GO_SEED,
      nodeVersion: '24',
    });
    const build = spawnSync('sh', [join(SCRIPTS, 'gate-image.sh'), GATE], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
  }, 900_000);

  afterAll(async () => {
    // `docker ps -a`: nothing the runs started is left, the gate's own container included.
    expect(await allContainers()).toEqual(before);
  });

  it("passes this project's image restarted by its restart.sh, reaching it at the container's address", () => {
    const run = gateInContainer(['--image', OURS, '--port', '8080', '--restart', '/app/scripts/restart.sh']);
    expect(run.code, run.stdout.slice(-1500) + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/PASSED: [\d,]+ requests, 0 failed, across 2 restarts/);
    expect(run.stdout).toContain("port 8080 at the container's address (the gate runs in a container)");
    // The host's /proc is not the gate's: the kernel counters say why they are missing instead of reading another process.
    expect(run.stdout).toMatch(/the gate runs in a container and cannot see the host's processes/);
  }, 200_000);

  it('fails the Go seed of examples/ in keep-alive load, naming the loss', () => {
    // The seed loses a request on each keep-alive connection its Shutdown closes just as the client sends on it.
    // Under the open model that was 0 to 7 per run of 2 restarts (5 runs from this image on 2026-12-07, one with
    // none, and one CI run with none); at full speed every connection is busy at the Shutdown (62-76 lost in 3
    // runs), so the image's failure to pass a lossy server is certain, not likely.
    const run = gateInContainer([
      '--image',
      GO_SEED,
      '--port',
      '8080',
      '--restart',
      '/app/seed-restart.sh',
      '--identity',
      'body:PID: (\\d+)',
      '--load',
      'keepalive',
      '--load-model',
      'closed',
    ]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/FAILED: [1-9][\d,]* of [\d,]+ requests failed; failing checks: zero-failed-requests/);
  }, 200_000);

  it('refuses an image it cannot find in one line, exit 4', () => {
    const run = gateInContainer([
      '--image',
      'reuseport-lab-example/absent:none',
      '--port',
      '8080',
      '--restart',
      'true',
    ]);
    expect(run.code).toBe(4);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^reuseport-lab: image reuseport-lab-example\/absent:none is not on this machine and cannot be pulled/,
    );
  }, 60_000);
});
