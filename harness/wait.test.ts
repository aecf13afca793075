import http from 'node:http';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DeadlineError } from './deadline.js';
import { freePort } from './runtime/processes.js';
import { httpOk, waitFor } from './wait.js';

describe('waitFor', () => {
  it('returns the value once the condition holds', async () => {
    let calls = 0;
    const value = await waitFor(
      { what: 'the third look', probe: async () => (++calls === 3 ? 'here' : undefined) },
      { timeoutMs: 1000, intervalMs: 5 },
    );
    expect(value).toBe('here');
    expect(calls).toBe(3);
  });

  it('says what did not happen, within how long', async () => {
    await expect(
      waitFor({ what: 'the moon landing', probe: async () => undefined }, { timeoutMs: 30, intervalMs: 5 }),
    ).rejects.toThrow(new DeadlineError('the moon landing did not happen within 30 ms'));
  });

  it('passes on what the probe throws: a condition that never will hold', async () => {
    await expect(
      waitFor(
        {
          what: 'x',
          probe: async () => {
            throw new Error('container exited');
          },
        },
        { timeoutMs: 1000 },
      ),
    ).rejects.toThrow('container exited');
  });
});

describe('httpOk', () => {
  it('is not yet while nothing listens or the answer is not 2xx, then yields the status', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/healthz`;
    expect(await httpOk(url).probe()).toBeUndefined();
    let status = 503;
    const server = http.createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect((server.address() as net.AddressInfo).port).toBe(port);
      expect(await httpOk(url).probe()).toBeUndefined();
      status = 204;
      expect(await waitFor(httpOk(url), { timeoutMs: 1000 })).toBe(204);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
