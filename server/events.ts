// GET /events: a Server-Sent Events stream that a restart hands over without a
// gap. Event ids derive from the clock (one id per `every` ms since the
// epoch), so any server of the port can continue any client's sequence: a
// client that reconnects with Last-Event-ID gets every id after it, caught up
// at once, then one per tick. At drain (drain.ts, line 8) the stream ends
// after a whole event; `retry:` tells the client to come back soon, to
// whichever server the port routes it to.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How soon a client reconnects after the stream ends (the SSE `retry:` field). */
export const RETRY_MS = 100;
/** Default and bounds of ?every=MS. */
export const EVERY_MS = { default: 100, min: 10, max: 60_000 } as const;
/** At most this many missed events are caught up on a reconnect; older ones are gone (the client sees a gap). */
export const MAX_CATCH_UP = 10_000;

export const eventId = (now: number, everyMs: number) => Math.floor(now / everyMs);

/** The first id to send a client: the one after its Last-Event-ID (at most MAX_CATCH_UP back), else the current one. */
export function firstId(lastEventId: string | string[] | undefined, everyMs: number): number {
  const now = eventId(Date.now(), everyMs);
  const last = Number(lastEventId);
  return Number.isSafeInteger(last) && last >= 0 && last <= now ? Math.max(last + 1, now - MAX_CATCH_UP) : now;
}

/** ?every=MS, or a reason it is not valid. */
export function readEvery(query: string): number | string {
  const raw = new URLSearchParams(query).get('every');
  if (raw === null) return EVERY_MS.default;
  const every = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  return every >= EVERY_MS.min && every <= EVERY_MS.max
    ? every
    : `every must be a whole number of milliseconds from ${EVERY_MS.min} to ${EVERY_MS.max}`;
}

export interface EventStream {
  /** Writes what is due, then ends the response: the drain's graceful end. */
  end(): void;
}

/**
 * Streams events to `res`: `id: N` and `data: N PID`. Starts after the
 * client's Last-Event-ID when it sends one, else at the current id.
 */
export function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  options: { pid: number; everyMs: number; headers: Record<string, string> },
): EventStream {
  const { pid, everyMs } = options;
  let next = firstId(req.headers['last-event-id'], everyMs);
  res.writeHead(200, { ...options.headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
  res.write(`retry: ${RETRY_MS}\n\n`);
  const due = () => {
    const upTo = eventId(Date.now(), everyMs);
    let chunk = '';
    for (; next <= upTo; next++) chunk += `id: ${next}\ndata: ${next} ${pid}\n\n`;
    if (chunk) res.write(chunk);
  };
  due();
  const timer = setInterval(due, everyMs);
  res.once('close', () => clearInterval(timer));
  return {
    end() {
      clearInterval(timer);
      if (res.writableEnded) return;
      due();
      res.end();
    },
  };
}
