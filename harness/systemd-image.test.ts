// The image's systemd target: systemd as PID 1 without --privileged, and the
// socket-activated units (systemd/reuseport-lab.socket and .service) as
// systemd alone runs them, without our scripts. The ground the systemd
// restart designs stand on. In CI a missing engine is a
// failure, never a skip.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOnce } from './load/churn-load.js';
import { buildImage } from './runtime/docker/build-image.js';
import { execIn } from './runtime/docker/exec.js';
import { connect, engineAnswers, LABEL } from './runtime/docker/engine.js';
import { waitFor } from './wait.js';
import { isCI } from '../test/ci.js';
import { ROOT } from '../test/processes.js';

// The tag poc-systemd.test.ts builds too: one build of the systemd target per test run.
const IMAGE = 'reuseport-lab:test-systemd';
const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun)
  console.warn('systemd-image: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

let container: Docker.Container;
let port = 0;
const sh = async (script: string) => (await execIn(container, ['sh', '-c', script])).stdout.trim();
const get = (path: string) => requestOnce({ host: '127.0.0.1', port, timeoutSeconds: 30 }, path);

describe.runIf(mustRun)('the systemd image target', () => {
  beforeAll(async () => {
    await buildImage(docker, { contextDir: ROOT, image: IMAGE, nodeVersion: '24', target: 'systemd' });
    // What systemd as PID 1 needs here, and no more (docs/security.md): no --privileged.
    // (CgroupnsMode is in the engine's API since 1.41, not yet in @types/dockerode.)
    const hostConfig: Docker.HostConfig & { CgroupnsMode: 'host' } = {
      CgroupnsMode: 'host',
      Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
      Tmpfs: { '/run': '', '/run/lock': '' },
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    };
    container = await docker.createContainer({
      Image: IMAGE,
      Labels: { [LABEL]: 'systemd-test' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: hostConfig,
    });
    await container.start();
    const info = await container.inspect();
    port = Number(info.NetworkSettings.Ports['8080/tcp']![0]!.HostPort);
    await waitFor(
      {
        what: 'systemd running',
        probe: async () =>
          /^(running|degraded)$/.test(await sh('systemctl is-system-running || true')) ? true : undefined,
      },
      { timeoutMs: 60_000 },
    );
    // Nothing is enabled at boot (each design starts its own units): listen, as an operator would.
    await sh('systemctl start reuseport-lab.socket');
  }, 600_000);

  afterAll(async () => {
    await container?.remove({ force: true });
  });

  it('boots without --privileged, and the first request starts the server on the socket systemd holds', async () => {
    const info = await container.inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    const answer = await get('/');
    expect(answer).toMatchObject({ ok: true, version: 'v1' });
    const mainPid = Number(await sh('systemctl show -p MainPID --value reuseport-lab.service'));
    expect(answer.ok && answer.pid).toBe(mainPid);
    const details = await (await fetch(`http://127.0.0.1:${port}/info`)).json();
    expect(details).toMatchObject({ pid: mainPid, listener: 'systemd' });
  });

  it('systemctl restart stops before it starts: a long request finishes on the old server while new connections wait in the queue', async () => {
    const old = Number(await sh('systemctl show -p MainPID --value reuseport-lab.service'));
    const long = get('/slow?ms=2000');
    await new Promise((r) => setTimeout(r, 200));
    const restart = sh('systemctl restart reuseport-lab.service');
    await new Promise((r) => setTimeout(r, 200));
    const waiting = get('/');
    expect(await long).toMatchObject({ ok: true, pid: old });
    const waited = await waiting;
    await restart;
    const fresh = Number(await sh('systemctl show -p MainPID --value reuseport-lab.service'));
    expect(fresh).not.toBe(old);
    // Nothing refused: the request waited through the old server's drain and was answered by the new one.
    expect(waited).toMatchObject({ ok: true, pid: fresh });
    expect(waited.latencyMs).toBeGreaterThan(1000);
  });

  it('TimeoutStopSec: a drain that overruns it is cut by systemd, not waited for', async () => {
    await sh(
      [
        'mkdir -p /etc/systemd/system/reuseport-lab.service.d /etc/reuseport-lab',
        'printf "[Service]\\nTimeoutStopSec=2s\\n" > /etc/systemd/system/reuseport-lab.service.d/stop.conf',
        'echo DRAIN_TIMEOUT_MS=60000 > /etc/reuseport-lab/server.env',
        'systemctl daemon-reload',
        'systemctl restart reuseport-lab.service',
      ].join(' && '),
    );
    const server = Number(await sh('systemctl show -p MainPID --value reuseport-lab.service'));
    const long = get('/slow?ms=8000');
    await new Promise((r) => setTimeout(r, 300));
    await sh('systemctl stop reuseport-lab.service');
    const cut = await long;
    // The server would have drained for 8 s; systemd's SIGKILL at 2 s cut the request.
    expect(cut).toMatchObject({ ok: false });
    expect(cut.latencyMs).toBeLessThan(8000);
    expect(await sh(`test -d /proc/${server} && echo alive || echo gone`)).toBe('gone');
    // What the systemd restart scripts read to tell a kill from an exit, as systemd records it.
    expect(await sh('systemctl show -p Result --value reuseport-lab.service')).toBe('timeout');
    expect(await sh('systemctl show -p ExecMainStatus --value reuseport-lab.service')).toBe('9');
  }, 60_000);
});
