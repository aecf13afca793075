// The restart events: one vocabulary for the scripts' JSON lines (written by
// emit in scripts/lib/script.sh) and the harness that reads them.
// events.test.ts checks that the scripts emit no other name.

export const RESTART_EVENT_NAMES = [
  'restart_started',
  'new_started',
  'new_ready',
  'rolled_back',
  // The old server, then any server a killed restart left behind (stray), then every server at `docker stop`.
  ...(['old', 'stray', 'stopped'] as const).flatMap(
    (who) => [`${who}_signalled`, `${who}_exited`, `${who}_killed`] as const,
  ),
  'restart_done',
  // The freeze fault (scripts/freeze.sh): the serving process stopped, and continued.
  'frozen',
  'thawed',
] as const;

export type RestartEventName = (typeof RESTART_EVENT_NAMES)[number];

/** One JSON line of a restart: `{ "ts": ms, "event": name, "pid": n, ... }`. */
export interface RestartEvent {
  ts: number;
  event: RestartEventName;
  pid?: number;
  reason?: string;
  [field: string]: unknown;
}

const NAMES = new Set<string>(RESTART_EVENT_NAMES);

/** Splits a restart's stdout into its events; other lines (and names outside the vocabulary) are skipped. */
export function parseRestartEvents(stdout: string): RestartEvent[] {
  const events: RestartEvent[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as RestartEvent;
      if (typeof event.ts !== 'number' || !Number.isFinite(event.ts) || !NAMES.has(event.event)) continue;
      // A PID is a positive whole number or nothing: a restart command of someone else's may print anything.
      if ('pid' in event && !(Number.isSafeInteger(event.pid) && event.pid! > 0)) delete event.pid;
      events.push(event);
    } catch {
      // Not ours: a server or shell line that happens to start with a brace.
    }
  }
  return events;
}
