import { describe, expect, it } from 'vitest';
import { limitedRestart } from './runtime.js';

const request = { index: 2, strategy: 'reuseport', version: 'v2', limitMs: 60_000 };
const events = [
  '{"ts":1,"event":"restart_started","old_pid":10}',
  '{"ts":2,"event":"new_started","pid":11}',
  '{"ts":3,"event":"restart_done","old_pid":10,"new_pid":11}',
].join('\n');

describe('a restart under its time limit', () => {
  it('records what the command said and did when it ended by itself', async () => {
    const record = await limitedRestart(request, async (limit) => {
      expect(limit).toBe(60_000);
      return { stdout: events, stderr: ' PID 11 serves \n', exitCode: 0, endedAtLimit: null };
    });
    expect(record).toMatchObject({
      index: 2,
      strategy: 'reuseport',
      version: 'v2',
      exitCode: 0,
      oldPid: 10,
      newPid: 11,
    });
    expect(record).toMatchObject({ messages: 'PID 11 serves', timedOut: null });
    expect(record.finishedAt).toBeGreaterThanOrEqual(record.triggeredAt);
  });

  it('says which restart outlived its limit, the limit, and how it was ended', async () => {
    const record = await limitedRestart({ ...request, limitMs: 1_500 }, async () => ({
      stdout: '',
      stderr: '',
      exitCode: 124,
      endedAtLimit: 'timeout(1) ended it (exit 124)',
    }));
    expect(record.timedOut).toBe('restart #2 did not finish within 1.5 s; timeout(1) ended it (exit 124)');
    expect(record.newPid).toBeNull();
  });
});
