// The stream lane: a few Server-Sent Events clients that stay connected
// through every restart, as a browser's EventSource would: when a stream
// ends they come back after the server's `retry:` with Last-Event-ID. For
// each end it keeps how the stream ended (a clean end of stream, an end in the
// middle of an event, a reset), how long until the client received again, and,
// where event ids are whole numbers, the ids lost or seen twice across it.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningLoad } from './keepalive-load.js';

/**
 * How a stream ended: `end` after a whole event with the response's own end,
 * `cut` when the connection closed or was reset without that end (or in the
 * middle of an event), `reset` before any response, or a connection that
 * failed to open.
 */
export type StreamEnding = 'end' | 'cut' | 'reset' | 'refused' | 'error';

export interface StreamBreak {
  /** When the stream ended, ms since the epoch. */
  at: number;
  how: StreamEnding;
  /** From the end until the next event arrived; null: nothing came back before the load stopped. */
  backAfterMs: number | null;
  /** Ids between the last one before the end and the first one after it, never received. */
  lost: number;
  /** Ids received again after the end. */
  duplicated: number;
}

export interface StreamLaneRecord {
  connections: number;
  events: number;
  /** Events whose id is no whole number: loss cannot be judged for them. */
  unnumbered: number;
  /** Ids skipped or repeated within one connection (not across an end). */
  lostInStream: number;
  duplicatedInStream: number;
  breaks: StreamBreak[];
}

export interface StreamLaneOptions {
  host: string;
  port: number;
  path: string;
  connections: number;
}

/** Until the server says otherwise (`retry:`), and after a connection failed: the pause before coming back. */
const DEFAULT_RETRY_MS = 100;
/** A server that keeps refusing is retried at most this often. */
const MAX_RETRY_MS = 1000;

export interface RunningStreams extends RunningLoad {
  record(): StreamLaneRecord;
}

export function startSseLane(options: StreamLaneOptions): RunningStreams {
  const record: StreamLaneRecord = { connections: options.connections, events: 0, unnumbered: 0, lostInStream: 0, duplicatedInStream: 0, breaks: [] };
  let stopping = false;
  const open = new Set<http.ClientRequest>();

  const client = async () => {
    let lastId: number | undefined;
    let retryMs = DEFAULT_RETRY_MS;
    /** The break this client has not come back from yet. */
    let pending: StreamBreak | undefined;
    /** After a break whose stream resumed at an id already seen: the repeats up to the last id before it are that break's. */
    let repeating: { of: StreamBreak; upTo: number } | undefined;
    const event = (id: number | undefined) => {
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
    while (!stopping) {
      const how = await new Promise<StreamEnding>((resolve) => {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (lastId !== undefined) headers['Last-Event-ID'] = String(lastId);
        let responded = false;
        const request = http.get({ host: options.host, port: options.port, path: options.path, headers, agent: false }, (response) => {
          responded = true;
          if (response.statusCode !== 200) {
            response.resume();
            return resolve('error');
          }
          let rest = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            const blocks = (rest + chunk).split('\n\n');
            rest = blocks.pop()!;
            for (const block of blocks) {
              const retry = /^retry: ?(\d+)$/m.exec(block);
              if (retry) retryMs = Number(retry[1]);
              if (!/^data:/m.test(block)) continue;
              const id = /^id: ?(.*)$/m.exec(block)?.[1];
              event(id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined);
            }
          });
          response.on('end', () => resolve(rest.trim() ? 'cut' : 'end'));
          // A response whose connection closed before its end: Node says 'aborted', and no 'end' comes.
          response.on('close', () => resolve(response.complete && !rest.trim() ? 'end' : 'cut'));
          response.on('error', () => {}); // 'aborted': the 'close' above says it
        });
        open.add(request);
        request.on('close', () => {
          open.delete(request);
          // With a response, the response says how it ended; without one (destroyed at stop), this ends the wait.
          if (!responded) resolve('reset');
        });
        request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : 'error'));
      });
      if (stopping) break;
      // A failed reconnect is part of the break already open, not a new one.
      if (!pending) {
        pending = { at: Date.now(), how, backAfterMs: null, lost: 0, duplicated: 0 };
        record.breaks.push(pending);
      }
      const connectionFailed = how === 'refused' || how === 'error';
      await sleep(connectionFailed ? Math.min(MAX_RETRY_MS, retryMs * 2) : retryMs);
    }
  };
  const clients = Array.from({ length: options.connections }, client);
  return {
    async stop() {
      stopping = true;
      for (const request of open) request.destroy();
      await Promise.all(clients);
    },
    record: () => record,
  };
}
