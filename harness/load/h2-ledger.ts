// What an HTTP/2 load saw that HTTP/1.1 has no word for: every GOAWAY a
// session received (when, its last stream id, its code), whether the server
// warned before its final one, and how each stream that was not answered
// ended. The request ledger (recorder.ts) counts the same streams by cause;
// this one says which session and stream, so a check can name them.
//
// A server's graceful HTTP/2 shutdown is two GOAWAYs (RFC 9113 section 6.8):
// a notice with last stream id 2^31-1 ("open no more streams"), then, a
// round trip later, the final one with the last stream it took. A client
// that gets the final one first may already have streams on the wire that
// cross it: those are refused (never processed, safe to send again).

/** The last stream id of a GOAWAY that is a notice, not the final word: the highest a stream id can be. */
export const NOTICE_LAST_STREAM_ID = 2 ** 31 - 1;

/** GOAWAYs and lost streams listed one by one, at most this many each (the counts stay exact). */
export const LISTED_AT_MOST = 200;

/** How a stream the load wrote ended, when it was not answered. */
export type StreamEnding =
  /** RST_STREAM with REFUSED_STREAM from the server: it says it did not process the stream. */
  | 'refused'
  /** Above the last stream id of a GOAWAY the session received: the server never processed it. */
  | 'crossed'
  /** Reset at or below the last stream id: the server may have processed it; lost. */
  | 'reset'
  /** The connection ended with the stream open, no GOAWAY covering it; lost. */
  | 'cut';

export interface GoawayEntry {
  /** ms since the epoch. */
  at: number;
  /** The session's number in this load, from 1. */
  session: number;
  lastStreamId: number;
  errorCode: number;
}

export interface LostStream {
  at: number;
  session: number;
  stream: number;
  how: 'reset' | 'cut';
  /** The RST_STREAM code the stream ended with (0 when none). */
  code: number;
}

export interface Http2Record {
  protocol: 'h2c' | 'h2';
  /** Sessions (connections) the load opened. */
  sessions: number;
  streams: {
    refused: number;
    crossed: number;
    reset: number;
    cut: number;
    /**
     * Streams Node's client had queued but not written when a GOAWAY
     * arrived: it may not open them on that session (RFC 9113 6.8), so
     * they went out on another; never seen by the server, not counted as
     * anything else.
     */
    resentUnsent: number;
    /** Refused or crossed streams sent again on another session (--retry-refused). */
    retried: number;
    /** Of those, answered in the end. */
    answeredAfterRetry: number;
  };
  goaways: {
    count: number;
    /** GOAWAYs with last stream id 2^31-1. */
    notices: number;
    /** Sessions whose final GOAWAY came after a notice. */
    finalsAfterNotice: number;
    /** Sessions whose first GOAWAY was already the final one: no warning. */
    finalsWithoutNotice: number;
    /** Sessions the server closed with no GOAWAY at all. */
    closedWithoutGoaway: number;
    /** From a session's notice to its final GOAWAY, ms: min and max; null when no session got both. */
    noticeToFinalMs: { min: number; max: number } | null;
    /** The first ones, in order. */
    listed: GoawayEntry[];
  };
  /** The first lost streams (reset or cut), in order. */
  lost: LostStream[];
  /** gRPC calls: how many ended with each status (grpc-status), by name; absent when no call was gRPC. */
  grpcStatuses?: Record<string, number>;
}

/** RST_STREAM and GOAWAY error codes by name (RFC 9113 section 7). */
const ERROR_CODES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

export const errorCodeName = (code: number) => ERROR_CODES[code] ?? `error code ${code}`;

/** gRPC's status codes by number (grpc/grpc, doc/statuscodes.md). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** A grpc-status as a name: `UNAVAILABLE`, or `status 99` for one gRPC does not define (the target's text, bounded). */
export function grpcStatusName(code: string | number): string {
  const text = String(code);
  return /^\d{1,2}$/.test(text) && GRPC_STATUS_NAMES[Number(text)]
    ? GRPC_STATUS_NAMES[Number(text)]!
    : `status ${text.slice(0, 12).replace(/[^\w-]/g, '?')}`;
}

interface SessionState {
  notice?: number;
  final?: boolean;
  any: boolean;
}

/** Collects one load mode's HTTP/2 record as its sessions and streams report. */
export class Http2Ledger {
  private sessionCount = 0;
  private readonly states = new Map<number, SessionState>();
  private readonly record: Http2Record;
  private gapMin = Infinity;
  private gapMax = -Infinity;

  constructor(protocol: 'h2c' | 'h2') {
    this.record = {
      protocol,
      sessions: 0,
      streams: { refused: 0, crossed: 0, reset: 0, cut: 0, resentUnsent: 0, retried: 0, answeredAfterRetry: 0 },
      goaways: {
        count: 0,
        notices: 0,
        finalsAfterNotice: 0,
        finalsWithoutNotice: 0,
        closedWithoutGoaway: 0,
        noticeToFinalMs: null,
        listed: [],
      },
      lost: [],
    };
  }

  /** Sessions opened so far (the newest one's number). */
  get sessionsOpened(): number {
    return this.sessionCount;
  }

  /** A new session; its number. */
  opened(): number {
    this.record.sessions = ++this.sessionCount;
    this.states.set(this.sessionCount, { any: false });
    return this.sessionCount;
  }

  goaway(session: number, lastStreamId: number, errorCode: number, at = Date.now()): void {
    const goaways = this.record.goaways;
    goaways.count++;
    if (goaways.listed.length < LISTED_AT_MOST) goaways.listed.push({ at, session, lastStreamId, errorCode });
    const state = this.states.get(session) ?? { any: false };
    this.states.set(session, state);
    state.any = true;
    if (lastStreamId === NOTICE_LAST_STREAM_ID && errorCode === 0) {
      goaways.notices++;
      state.notice ??= at;
      return;
    }
    if (state.final) return;
    state.final = true;
    if (state.notice === undefined) {
      goaways.finalsWithoutNotice++;
      return;
    }
    goaways.finalsAfterNotice++;
    const gap = at - state.notice;
    this.gapMin = Math.min(this.gapMin, gap);
    this.gapMax = Math.max(this.gapMax, gap);
    goaways.noticeToFinalMs = { min: this.gapMin, max: this.gapMax };
  }

  /** The session ended; `byServer`: its peer closed it, not this client. */
  closed(session: number, byServer: boolean): void {
    const state = this.states.get(session);
    if (byServer && state && !state.any) this.record.goaways.closedWithoutGoaway++;
    this.states.delete(session);
  }

  ended(how: StreamEnding, session: number, stream: number, code: number, at = Date.now()): void {
    this.record.streams[how]++;
    if ((how === 'reset' || how === 'cut') && this.record.lost.length < LISTED_AT_MOST)
      this.record.lost.push({ at, session, stream, how, code });
  }

  grpcStatus(code: string): void {
    const statuses = (this.record.grpcStatuses ??= {});
    const name = grpcStatusName(code);
    statuses[name] = (statuses[name] ?? 0) + 1;
  }

  resentUnsent(): void {
    this.record.streams.resentUnsent++;
  }

  retried(): void {
    this.record.streams.retried++;
  }

  answeredAfterRetry(): void {
    this.record.streams.answeredAfterRetry++;
  }

  snapshot(): Http2Record {
    return structuredClone(this.record);
  }
}
