import { describe, expect, it } from 'vitest';
import { DeadlineError, formatDuration, withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('passes a result through when the work finishes in time', async () => {
    expect(await withDeadline(Promise.resolve(7), 1000, 'work')).toBe(7);
  });

  it('rejects with the reason and ends the work when it does not', async () => {
    let ended = false;
    const never = new Promise<void>(() => {});
    const outcome = withDeadline(never, 30, 'restart #2', () => (ended = true));
    await expect(outcome).rejects.toThrow(new DeadlineError('restart #2 did not finish within 30 ms'));
    expect(ended).toBe(true);
  });

  it('says durations the way people do', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(60_000)).toBe('60 s');
    expect(formatDuration(1_500)).toBe('1.5 s');
    expect(formatDuration(1_200_000)).toBe('20 min');
  });
});
