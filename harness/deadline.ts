// Every external command the harness starts gets a time limit: a hung
// restart, exec or build must fail the run with a reason, not hang the gate.
import { duration } from './format.js';

/** Raised when a command or call outlives its time limit; the message names it. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * Settles like `work`, or rejects with DeadlineError("WHAT did not finish
 * within N s") once `ms` have passed; `onExpire` then ends the work.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, onExpire?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire?.();
      reject(new DeadlineError(`${what} did not finish within ${duration(ms)}`));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
