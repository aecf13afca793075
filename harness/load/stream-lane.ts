// The stream lane: a few clients that stay connected to a stream (Server-Sent
// Events or a WebSocket) through every restart, as a browser would: when a
// stream ends they come back after a short pause, naming the last message
// they got. For each end it keeps how the stream ended, how long until the
// client received again, and, where messages are numbered, the numbers lost
// or seen twice across it. The protocols themselves are in sse-lane.ts and
// ws-lane.ts; this module is what they share.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningLoad } from './keepalive-load.js';
import type { TlsSettings } from './tls.js';

export type StreamKind = 'sse' | 'ws' | 'grpc';

/**
 * How a stream ended: `end` (SSE: the response's own end after a whole event),
 * `close` (WebSocket: a close frame, its code in `code`), `status` (gRPC: the
 * call's status, its code in `code`), `cut` (the
 * connection closed without either: an EOF mid-stream), `reset`, or a
 * connection that was `refused` or failed to open (`error`).
 */
export type StreamEnding = 'end' | 'close' | 'status' | 'cut' | 'reset' | 'refused' | 'error';

export interface Ending {
  how: StreamEnding;
  /** WebSocket close code, for `close`; gRPC status, for `status` (and for `error`, when a call never opened). */
  code?: number;
}

export interface StreamBreak extends Ending {
  /** When the stream ended, ms since the epoch. */
  at: number;
  /** From the end until the next message arrived; null: nothing came back before the load stopped. */
  backAfterMs: number | null;
  /** Numbers between the last one before the end and the first one after it, never received. */
  lost: number;
  /** Numbers received again after the end. */
  duplicated: number;
}

export interface StreamLaneRecord {
  connections: number;
  /** Messages received (SSE events, WebSocket messages). */
  events: number;
  /** Messages with no number: loss cannot be judged for them. */
  unnumbered: number;
  /** Numbers skipped or repeated within one connection (not across an end). */
  lostInStream: number;
  duplicatedInStream: number;
  breaks: StreamBreak[];
}

export interface StreamLaneOptions {
  host: string;
  port: number;
  tls?: TlsSettings | null;
  path: string;
  connections: number;
}

/** What a protocol's client is given to open one stream. */
export interface StreamAttempt {
  /** The last number received, to resume after; undefined before any. */
  lastId: number | undefined;
  /** Called per message with its number, or undefined when it has none. */
  message(id: number | undefined): void;
  /** The server named the pause before a reconnect (SSE `retry:`). */
  retry(ms: number): void;
  /** Registers how to drop the connection at stop; returns the unregister. */
  track(drop: () => void): () => void;
}

/** Opens one stream and resolves how it ended. */
export type OpenStream = (attempt: StreamAttempt) => Promise<Ending>;

export interface RunningStreams extends RunningLoad {
  record(): StreamLaneRecord;
}

/** The pause before coming back, until the server names one, and after a connection failed. */
const DEFAULT_RETRY_MS = 100;
/**
 * The longest pause before coming back, whatever the server names: a
 * `retry:` is the target's text, and a client told to wait for weeks would
 * hold the run's stop as long. A server that keeps refusing is retried at
 * most this often too. The streams check wants a stream back within the
 * latency budget (1 s by default) anyway.
 */
export const MAX_RETRY_MS = 1000;

export function startStreamLane(options: StreamLaneOptions, open: OpenStream): RunningStreams {
  const record: StreamLaneRecord = {
    connections: options.connections,
    events: 0,
    unnumbered: 0,
    lostInStream: 0,
    duplicatedInStream: 0,
    breaks: [],
  };
  let stopping = false;
  const drops = new Set<() => void>();
  // Cuts every pause short at stop: no client's sleep holds the run.
  const stopped = new AbortController();
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopped.signal }).catch(() => undefined);

  const client = async () => {
    let lastId: number | undefined;
    let retryMs = DEFAULT_RETRY_MS;
    /** The break this client has not come back from yet. */
    let pending: StreamBreak | undefined;
    /** After a break whose stream resumed at a number already seen: the repeats up to the last one before it are that break's. */
    let repeating: { of: StreamBreak; upTo: number } | undefined;
    const message = (id: number | undefined) => {
      record.events++;
      const afterBreak = pending;
      if (afterBreak) {
        afterBreak.backAfterMs = Date.now() - afterBreak.at;
        pending = undefined;
      }
      if (id === undefined) return void record.unnumbered++;
      if (lastId !== undefined) {
        if (afterBreak) {
          afterBreak.lost = Math.max(0, id - lastId - 1);
          repeating = id <= lastId ? { of: afterBreak, upTo: lastId } : undefined;
        }
        if (repeating && id <= repeating.upTo) {
          repeating.of.duplicated++;
        } else {
          repeating = undefined;
          if (!afterBreak && id > lastId + 1) record.lostInStream += id - lastId - 1;
          if (!afterBreak && id <= lastId) record.duplicatedInStream++;
        }
      }
      lastId = Math.max(lastId ?? id, id);
    };
    const track = (drop: () => void) => {
      drops.add(drop);
      return () => void drops.delete(drop);
    };
    while (!stopping) {
      const ending = await open({ lastId, message, retry: (ms) => (retryMs = Math.min(MAX_RETRY_MS, ms)), track });
      if (stopping) break;
      // A failed reconnect is part of the break already open, not a new one.
      if (!pending) {
        pending = { at: Date.now(), ...ending, backAfterMs: null, lost: 0, duplicated: 0 };
        record.breaks.push(pending);
      }
      const connectionFailed = ending.how === 'refused' || ending.how === 'error';
      await pause(connectionFailed ? Math.min(MAX_RETRY_MS, retryMs * 2) : retryMs);
    }
  };
  const clients = Array.from({ length: options.connections }, client);
  return {
    async stop() {
      stopping = true;
      stopped.abort();
      for (const drop of drops) drop();
      await Promise.all(clients);
    },
    record: () => record,
  };
}
