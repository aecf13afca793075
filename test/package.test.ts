// The package, not the clone: `npm pack` of this checkout installed into an
// empty prefix with no compiler on PATH, then used from that install alone:
// `reuseport-lab --version`, a gate run against this project's image, and
// `reuseport-lab/server` in a service of one's own, under this Node and the
// others CI names (Node 22 and 24). The addon is the prebuilt one; where none
// fits, the install says so in one line and goes on.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../harness/runtime/docker/build-image.js';
import { connect, engineAnswers, LABEL } from '../harness/runtime/docker/engine.js';
import { isCI } from './ci.js';
import { binWithoutCompiler, installInto, nodeVersion, otherNodes, packTarball } from './package.js';
import { explain, runReporting } from './poc-cli.js';
import { ROOT, tempDir } from './processes.js';

const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun)
  console.warn('package: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

const OURS = 'reuseport-lab:test';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** This Node and the others CI names, one binary per version (CI also runs this file under Node 24 itself). */
const NODES = [process.execPath, ...otherNodes()].filter(
  (node, i, all) => all.findIndex((other) => nodeVersion(other) === nodeVersion(node)) === i,
);

describe.runIf(mustRun)('the packed package, installed where there is no compiler', () => {
  const prefix = tempDir('reuseport-lab-prefix-');
  const installed = join(prefix, 'lib', 'node_modules', 'reuseport-lab');
  const cli = join(installed, 'bin', 'reuseport-lab.js');
  let bin = '';
  let install: { status: number | null; stderr: string } = { status: null, stderr: '' };
  const labelled = async () =>
    (await docker.listContainers({ all: true, filters: { label: [LABEL] } })).map((c) => c.Id);
  let before = new Set<string>();

  beforeAll(async () => {
    before = new Set(await labelled());
    await buildImage(docker, { contextDir: ROOT, image: OURS, nodeVersion: '24' });
    const tarball = packTarball();
    bin = binWithoutCompiler();
    install = installInto(prefix, tarball, bin);
  }, 900_000);

  afterAll(async () => {
    expect((await labelled()).filter((id) => !before.has(id))).toEqual([]);
  });

  it('installs with npm alone (no g++, make or python3 on PATH), prebuilt addon and no build', () => {
    const toolchain = spawnSync('sh', ['-c', 'command -v g++ || command -v make || command -v python3'], {
      env: { PATH: bin },
    });
    expect(toolchain.status, 'the PATH of the install must hold no compiler').not.toBe(0);
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(installed, 'prebuilds', 'linux-x64'))).toBe(true);
    expect(existsSync(join(installed, 'build')), 'nothing was compiled').toBe(false);
    const version = spawnSync(join(prefix, 'bin', 'reuseport-lab'), ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: bin },
    });
    expect(version.stdout.trim(), version.stderr).toBe(VERSION);
  });

  it.each(NODES.map((node) => [nodeVersion(node), node]))(
    "gates this project's image from that install alone, under Node %s",
    async (_version, node) => {
      const work = tempDir('reuseport-lab-user-');
      const reportDir = join(work, 'report');
      const args = [
        'gate',
        '--image',
        OURS,
        '--port',
        '8080',
        '--restart',
        '/app/scripts/restart.sh',
        '--restarts',
        '2',
        '--interval',
        '2',
        '--warmup',
        '1',
        '--cooldown',
        '1',
        '--report-dir',
        reportDir,
      ];
      const run = await runReporting(node, [cli, ...args], reportDir, { cwd: work, env: { PATH: bin } });
      expect(run.code, explain(run)).toBe(0);
      expect(run.schemaProblem).toBeNull();
      expect(run.result).toMatchObject({ passed: true, failedRequests: 0 });
    },
    120_000,
  );

  it.each(NODES.map((node) => [nodeVersion(node), node]))(
    'serves and drains through reuseport-lab/server under Node %s (the prebuilt addon, N-API)',
    async (_version, node) => {
      const service = startAdopter(node, prefix);
      try {
        const port = await service.port;
        expect(await get(port, '/healthz')).toMatchObject({ status: 200, pid: service.child.pid });
        // A request in flight when SIGTERM comes is answered, with Connection: close, and the process exits 0.
        const slow = get(port, '/slow');
        await new Promise((resolve) => setTimeout(resolve, 100));
        service.child.kill('SIGTERM');
        expect(await slow).toMatchObject({ status: 200, connection: 'close' });
        expect(await service.exit).toBe(0);
        expect(service.log()).toMatch(/"event":"listener_closed"/);
      } finally {
        service.child.kill('SIGKILL');
      }
    },
    30_000,
  );

  it('without a prebuilt that fits, says in one line what is lost and installs all the same; with a compiler, builds one', () => {
    const prebuilds = join(installed, 'prebuilds');
    const aside = `${prebuilds}.aside`;
    renameSync(prebuilds, aside);
    try {
      // As npm runs it: INIT_CWD is where npm was started, not the package.
      const script = join(installed, 'scripts', 'install-addon.mjs');
      const bare = spawnSync(process.execPath, [script], {
        cwd: installed,
        encoding: 'utf8',
        env: { ...process.env, PATH: bin, INIT_CWD: prefix },
      });
      expect(bare.status, bare.stderr).toBe(0);
      expect(bare.stderr.trim().split('\n')).toEqual([
        'reuseport-lab: no prebuilt native addon fits linux-x64 and there is no compiler to build one (g++, make, python3 not on PATH): the gate, compare and report work without it, reuseport-lab/server does not; install g++, make and python3, then run npm rebuild reuseport-lab',
      ]);
      const load = spawnSync(
        process.execPath,
        [
          '-e',
          `import(${JSON.stringify(join(installed, 'dist', 'server', 'index.js'))}).catch((e) => { console.error(e.message); process.exit(3); })`,
        ],
        { encoding: 'utf8' },
      );
      expect(load.status).toBe(3);
      expect(load.stderr.trim()).toMatch(
        /^reuseport-lab's native addon is not there for linux-x64 \(No native build was found .*\); install g\+\+, make and python3 and run npm rebuild reuseport-lab/,
      );
      expect(spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).stdout.trim()).toBe(VERSION);

      const built = spawnSync(process.execPath, [script], {
        cwd: installed,
        encoding: 'utf8',
        env: { ...process.env, INIT_CWD: prefix },
      });
      expect(built.status, built.stderr).toBe(0);
      expect(built.stderr).toContain('no prebuilt native addon fits linux-x64: building it with node-gyp');
      expect(existsSync(join(installed, 'build', 'Release', 'reuseport.node'))).toBe(true);
    } finally {
      renameSync(aside, prebuilds);
    }
  }, 120_000);
});

/** A service of one's own that adopts the drain: a script beside the install's node_modules, importing the package by name. */
function startAdopter(
  node: string,
  prefix: string,
): { child: ChildProcess; port: Promise<number>; exit: Promise<number | null>; log: () => string } {
  const script = join(prefix, 'lib', 'adopter.mjs');
  writeFileSync(
    script,
    `import { createServer } from 'node:http';
import { Drainer, listenReusePort, inspectSocket, steerThenSettle } from 'reuseport-lab/server';
const fd = listenReusePort('127.0.0.1', 0);
const { port } = inspectSocket(fd);
const server = createServer();
const log = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const drainer = new Drainer(server, { idleGraceMs: 500, deadlineMs: 5000, log,
  beforeListenerClose: () => steerThenSettle({ fd, address: '127.0.0.1', port, pid: process.pid }, 50, log) });
server.on('request', drainer.handle((req, res) => {
  const answer = () => res.writeHead(200, { 'X-Server-Pid': String(process.pid) }).end('ok');
  req.url === '/slow' ? setTimeout(answer, 500) : answer();
}));
server.listen({ fd }, () => console.log('listening ' + port));
process.on('SIGTERM', () => drainer.drain().then((code) => process.exit(code)));
`,
  );
  const child = spawn(node, [script], { cwd: prefix, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const found = /listening (\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    child.on('exit', (code) => reject(new Error(`the service exited (${code}) before listening: ${out}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, port, exit, log: () => out };
}

function get(port: number, path: string): Promise<{ status: number; pid: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            pid: Number(res.headers['x-server-pid']),
            connection: res.headers.connection,
          }),
        );
      })
      .on('error', reject);
  });
}
