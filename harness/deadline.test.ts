import { describe, expect, it } from 'vitest';
import { DeadlineError, withDeadline } from './deadline.js';

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
});
