// steerAway and settle against real sockets of one reuseport group. The
// listeners live in this process, so a probe tells them apart by the name
// each one greets with instead of by PID.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  closeAfterTest,
  closeGreetersAfterEach,
  fetchGreeting,
  serveGreeting as serve,
} from '../test/fixtures/greeting-listeners.js';
import { clearReusePortSteering, inspectSocket, listenReusePort } from '../native/index.js';
import { type Probe, probeHost, settle, steerAway } from './steer.js';

closeGreetersAfterEach();

/** A probe that reads the greeting and maps a listener's name to a stand-in PID. */
const byName =
  (pids: Record<string, number>): Probe =>
  async (host, port) =>
    pids[await fetchGreeting(port, host)] ?? null;

const PIDS = { old: 100, new: 200 };

/** Two listeners on one port: `old` at index 0, `new` appended at index 1. */
async function pair() {
  const old = listenReusePort('127.0.0.1', 0);
  const port = inspectSocket(old).port!;
  const young = listenReusePort('127.0.0.1', port);
  await serve(old, 'old');
  await serve(young, 'new');
  return { old, young, port };
}

describe('steerAway', () => {
  it('steers a replaced server (index 0) to its successor with one probe', async () => {
    const { old, port } = await pair();
    const outcome = await steerAway({ fd: old, address: '127.0.0.1', port, pid: PIDS.old }, byName(PIDS));
    expect(outcome).toMatchObject({ steered: true, index: 1, probes: 1 });
    for (let i = 0; i < 50; i++) expect(await byName(PIDS)('127.0.0.1', port, 1000)).toBe(PIDS.new);
  });

  it('leaves the group to the hash when the answer names no process (a server without X-Server-Pid)', async () => {
    const { old, port } = await pair();
    const outcome = await steerAway({ fd: old, address: '127.0.0.1', port, pid: PIDS.old }, async () => null);
    expect(outcome).toMatchObject({ steered: false, probes: 1 });
    expect((outcome as { reason: string }).reason).toContain('named no process (X-Server-Pid)');
    expect(clearReusePortSteering(old)).toBe(false);
  });

  it('steers a rolled-back new server (index 1) back to the one that stays', async () => {
    const { young, port } = await pair();
    const outcome = await steerAway({ fd: young, address: '0.0.0.0', port, pid: PIDS.new }, byName(PIDS));
    expect(outcome).toMatchObject({ steered: true, index: 0, probes: 2 });
    for (let i = 0; i < 50; i++) expect(await byName(PIDS)('127.0.0.1', port, 1000)).toBe(PIDS.old);
  });

  it('alone on the port: steers nothing and leaves no program behind', async () => {
    const fd = listenReusePort('127.0.0.1', 0);
    await serve(fd, 'old');
    const outcome = await steerAway(
      { fd, address: '127.0.0.1', port: inspectSocket(fd).port!, pid: PIDS.old },
      byName(PIDS),
    );
    expect(outcome).toMatchObject({ steered: false, reason: 'no other listener on the port', probes: 2 });
    expect(clearReusePortSteering(fd)).toBe(false);
  });

  it('a refused attach changes nothing and says why', async () => {
    const plain = net.createServer();
    closeAfterTest(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const fd = (plain as unknown as { _handle: { fd: number } })._handle.fd;
    const outcome = await steerAway(
      { fd, address: '127.0.0.1', port: (plain.address() as net.AddressInfo).port, pid: PIDS.old },
      byName(PIDS),
    );
    expect(outcome).toMatchObject({
      steered: false,
      reason: 'the kernel refused SO_ATTACH_REUSEPORT_CBPF (EINVAL)',
      probes: 0,
    });
  });

  it('a probe that fails undoes the steer: the hash spreads again', async () => {
    const { old, port } = await pair();
    const failing: Probe = async () => {
      throw new Error('no answer within 2000 ms');
    };
    const outcome = await steerAway({ fd: old, address: '127.0.0.1', port, pid: PIDS.old }, failing);
    expect(outcome).toMatchObject({
      steered: false,
      reason: `the probe to 127.0.0.1:${port} failed (no answer within 2000 ms)`,
    });
    expect(clearReusePortSteering(old)).toBe(false);
    const seen = new Set<number | null>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await byName(PIDS)('127.0.0.1', port, 1000));
    expect(seen).toEqual(new Set([PIDS.old, PIDS.new]));
  });

  it('probes a wildcard listener through loopback', () => {
    expect(probeHost('0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost('::')).toBe('::1');
    expect(probeHost('10.0.0.5')).toBe('10.0.0.5');
  });
});

describe('settle', () => {
  it('waits the settle time, then until the accept queue is empty', async () => {
    const fd = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(fd).port!;
    const client = await new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    });
    const started = Date.now();
    // Nobody accepts yet: the connection waits in the queue until a server takes the fd.
    setTimeout(() => void serve(fd, 'late'), 300);
    expect(await settle(fd, 100)).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 - 20);
    client.destroy();
  });

  it('gives up on a queue nobody empties, and says what is left', async () => {
    const fd = listenReusePort('127.0.0.1', 0);
    const port = inspectSocket(fd).port!;
    const client = await new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    });
    expect(await settle(fd, 10, 100)).toBe(1);
    client.destroy();
    await serve(fd, 'cleanup'); // hands the fd to a server so afterEach closes it
  });
});
