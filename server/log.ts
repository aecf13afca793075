// One JSON line per lifecycle event on stdout, so a log collector and the
// harness read the same thing a person does.

/** Writes {"ts","pid","event",...fields} as one line. */
export function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, event, ...fields })}\n`);
}
