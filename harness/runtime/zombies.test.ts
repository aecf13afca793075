import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lastingZombies, type ScannedProcess } from './zombies.js';

const scans = (...lists: ScannedProcess[][]) => {
  let calls = 0;
  return { rescan: async () => lists[calls++] ?? [], calls: () => calls };
};

describe('lastingZombies', () => {
  it('does not scan again when the first scan found no zombie', async () => {
    const s = scans();
    expect(await lastingZombies([{ pid: 1, state: 'S' }], s.rescan, 0)).toBe(0);
    expect(s.calls()).toBe(0);
  });

  it('counts a zombie the second scan still finds', async () => {
    const s = scans([
      { pid: 1, state: 'S' },
      { pid: 7, state: 'Z', start: '100' },
    ]);
    expect(await lastingZombies([{ pid: 7, state: 'Z', start: '100' }], s.rescan, 0)).toBe(1);
  });

  it('does not count a zombie reaped in between (an exec whose parent is outside the container)', async () => {
    const s = scans([{ pid: 1, state: 'S' }]);
    expect(await lastingZombies([{ pid: 7, state: 'Z' }], s.rescan, 0)).toBe(0);
  });

  it('does not count a new zombie that only reuses the PID', async () => {
    const s = scans([{ pid: 7, state: 'Z', start: '200' }]);
    expect(await lastingZombies([{ pid: 7, state: 'Z', start: '100' }], s.rescan, 0)).toBe(0);
  });

  it('does not count a zombie that appeared only in the second scan', async () => {
    const s = scans([
      { pid: 7, state: 'Z' },
      { pid: 8, state: 'Z' },
    ]);
    expect(await lastingZombies([{ pid: 7, state: 'Z' }], s.rescan, 0)).toBe(1);
  });
});

describe('lastingZombies with real processes', () => {
  /** The children of `parent`, from /proc: the scan the container runtime runs, on this host. */
  const childrenOf = async (parent: number): Promise<ScannedProcess[]> =>
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => {
        try {
          const fields = readFileSync(`/proc/${name}/stat`, 'utf8')
            .replace(/^.*\) /, '')
            .split(' ');
          return Number(fields[1]) === parent ? [{ pid: Number(name), state: fields[0]!, start: fields[19] }] : [];
        } catch {
          return []; // gone between readdir and read
        }
      });

  it('counts a child its parent never reaps, and not one reaped during the grace', async () => {
    // sh starts `true`, then becomes `sleep`, which never waits: `true` stays a zombie while sleep lives.
    const parent = spawn('sh', ['-c', 'true & exec sleep 30'], { stdio: 'ignore' });
    try {
      let first: ScannedProcess[] = [];
      for (let i = 0; i < 100 && !first.some((p) => p.state === 'Z'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        first = await childrenOf(parent.pid!);
      }
      expect(first).toContainEqual(expect.objectContaining({ state: 'Z' }));
      expect(await lastingZombies(first, () => childrenOf(parent.pid!), 100)).toBe(1);

      // Ending the parent hands the zombie to init, which reaps it: gone by the second scan.
      const reaped = lastingZombies(first, () => childrenOf(parent.pid!), 500);
      parent.kill('SIGKILL');
      expect(await reaped).toBe(0);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
