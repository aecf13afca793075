// Every external command the harness starts gets a time limit: a hung
// restart, exec or build must fail the run with a reason, not hang the gate.

/** Raised when a command or call outlives its time limit; the message names it. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** "250 ms", "60 s", "1.5 s", "20 min": a limit as people say it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Number((ms / 1000).toFixed(1))} s`;
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
      reject(new DeadlineError(`${what} did not finish within ${formatDuration(ms)}`));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
