// Waiting is a named idea: a wait strategy says what is awaited and how to
// look, and waitFor() polls it within a time limit, so a timeout can say what
// did not happen instead of a bare "timed out".
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from './deadline.js';
import { duration } from './format.js';

export interface WaitStrategy<T> {
  /** What is awaited, for the error: "container 1a2b3c healthy". */
  readonly what: string;
  /** The value once the condition holds, undefined while it does not; throws when it never will. */
  probe(): Promise<T | undefined>;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Polls `strategy` until it yields a value; DeadlineError("WHAT did not happen within N s") past the limit. */
export async function waitFor<T>(
  strategy: WaitStrategy<T>,
  { timeoutMs, intervalMs = 200, signal }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await strategy.probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline)
      throw new DeadlineError(`${strategy.what} did not happen within ${duration(timeoutMs)}`);
    await sleep(intervalMs, undefined, { signal });
  }
}

/** A GET of `url` that answers 2xx (any connection error or other status: not yet). */
export function httpOk(url: string): WaitStrategy<number> {
  return {
    what: `${url} answering 2xx`,
    probe: () =>
      new Promise((resolve) => {
        // Readiness asks whether it answers; an HTTPS target's certificate is checked once it does (runtime/certificate.ts).
        const req = (url.startsWith('https:') ? https.get : http.get)(
          url,
          { agent: false, timeout: 2000, rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve(
              res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300
                ? res.statusCode
                : undefined,
            );
          },
        );
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(undefined));
      }),
  };
}
