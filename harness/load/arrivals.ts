// The open model's clock and its record. Requests fall due at a fixed rate,
// one every 1000/rate ms from the load's start, whether or not earlier ones
// were answered: users arrive on their own time, not when the server is
// done with the last one. Each request's latency is counted from when it
// fell due (wrk2's lesson), so a server that freezes is charged for every
// user who arrived meanwhile, not only for the few connections that were
// waiting. The record kept here says whether the load kept its schedule:
// a request the harness itself sent late measures the harness, one that
// waited for a free connection measures a pool that was full.
import { bucketIndex } from './recorder.js';

/**
 * The epoch ms of a performance.now() reading, on the wall clock's terms as
 * it reads now: restart events and every other record use Date.now(). Not
 * performance.timeOrigin plus the reading: the two clocks drift apart here
 * (the wall clock gained 5 ms a second on the monotonic one, measured
 * 2026-12-07) and a wall clock may be stepped, so an offset taken once goes
 * stale. One gate run had its answers filed 590 ms before the restarts that
 * made them, and failed the check of which PID answered after which restart.
 * Converted relative to now, a reading seconds old is off by the drift over
 * those seconds at most.
 */
export const epochOf = (monotonicMs: number) => Date.now() - (performance.now() - monotonicMs);

/**
 * At most this many requests are handed out per turn of the event loop: a
 * clock far behind its schedule still lets responses be read between
 * batches, instead of blocking the loop until it has caught up.
 */
const BATCH = 256;

/** Calls `onDue` for each request as it falls due, in order, until stopped. */
export class Arrivals {
  private next = 0;
  private timer?: NodeJS.Timeout | NodeJS.Immediate;
  private stopped = false;
  private readonly intervalMs: number;

  constructor(
    ratePerSecond: number,
    /** Called with the request's number and when it fell due (performance.now() ms). */
    private readonly onDue: (seq: number, dueAt: number) => void,
    /** When request 0 falls due (performance.now() ms). */
    readonly startAt = performance.now(),
  ) {
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** When request `seq` falls due. */
  dueAt(seq: number): number {
    return this.startAt + seq * this.intervalMs;
  }

  start(): void {
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    let handed = 0;
    while (this.dueAt(this.next) <= now && handed < BATCH) {
      this.onDue(this.next, this.dueAt(this.next));
      this.next++;
      handed++;
    }
    if (this.stopped) return;
    if (handed === BATCH) {
      this.timer = setImmediate(() => this.tick());
      return;
    }
    // Timers fire no sooner than asked, and in whole ms: ask for the next due time, at least 1 ms away.
    this.timer = setTimeout(() => this.tick(), Math.max(1, Math.floor(this.dueAt(this.next) - performance.now())));
  }
}

/**
 * A request handed out this long after it fell due was sent late by the
 * harness itself: its event loop was busy or starved. A tenth of the default
 * latency budget; normal runs here stay within a few ms (docs/how-it-works.md, "The open
 * model").
 */
export const LATE_SEND_MS = 100;

/** One time bucket of a schedule, by when its requests fell due (aligned with the load's buckets). */
export interface ScheduleBucket {
  /** Requests that fell due in this bucket. */
  due: number;
  /** Of those, answered with a valid response (at any latency: the latency budget decides which were in time). */
  answered: number;
  /** Of those, handed out more than LATE_SEND_MS after they fell due: the harness was behind. */
  late: number;
  /** Of those, held back because every connection the load may open was busy. */
  waited: number;
  /** Of those held back, sent (or given up on) more than LATE_SEND_MS after they fell due. */
  waitedLate: number;
  /** The longest the harness took to hand out one of them, ms. */
  lagMaxMs: number;
}

/** What an open load was asked to do and how well it kept to it. */
export interface ScheduleRecord {
  ratePerSecond: number;
  maxConnections: number;
  due: number;
  late: number;
  waited: number;
  waitedLate: number;
  lagMaxMs: number;
  /** The most connections open at once. */
  connectionsMax: number;
  buckets: ScheduleBucket[];
}

/** A sink for a load whose schedule nobody judges (the calibration's). */
export const NO_SCHEDULE: ScheduleSink = {
  due: () => {},
  waited: () => {},
  waitOver: () => {},
  answered: () => {},
  connections: () => {},
};

/** Where an open load reports its schedule; every time is epoch ms. */
export interface ScheduleSink {
  /** A request fell due at `dueAt` and was handed out `lagMs` later. */
  due(dueAt: number, lagMs: number): void;
  /** A request due at `dueAt` waited for a free connection. */
  waited(dueAt: number): void;
  /** A request due at `dueAt` that waited for a connection left the queue `waitMs` after it fell due (sent, or given up on). */
  waitOver(dueAt: number, waitMs: number): void;
  /** A request due at `dueAt` was answered. */
  answered(dueAt: number): void;
  /** The load has `open` connections now. */
  connections(open: number): void;
}

/** Counts an open load's requests by when they fell due, in the load's time buckets. */
export class ScheduleRecorder implements ScheduleSink {
  private readonly buckets: ScheduleBucket[] = [];
  private connectionsMax = 0;

  constructor(
    readonly ratePerSecond: number,
    readonly maxConnections: number,
    private readonly startedAt: number,
    private readonly bucketMs: number,
  ) {}

  due(dueAt: number, lagMs: number): void {
    const bucket = this.bucketAt(dueAt);
    bucket.due++;
    if (lagMs > LATE_SEND_MS) bucket.late++;
    bucket.lagMaxMs = Math.max(bucket.lagMaxMs, Math.round(lagMs));
  }

  waited(dueAt: number): void {
    this.bucketAt(dueAt).waited++;
  }

  waitOver(dueAt: number, waitMs: number): void {
    if (waitMs > LATE_SEND_MS) this.bucketAt(dueAt).waitedLate++;
  }

  answered(dueAt: number): void {
    this.bucketAt(dueAt).answered++;
  }

  connections(open: number): void {
    this.connectionsMax = Math.max(this.connectionsMax, open);
  }

  record(): ScheduleRecord {
    const sum = (key: 'due' | 'late' | 'waited' | 'waitedLate') => this.buckets.reduce((total, b) => total + b[key], 0);
    return {
      ratePerSecond: this.ratePerSecond,
      maxConnections: this.maxConnections,
      due: sum('due'),
      late: sum('late'),
      waited: sum('waited'),
      waitedLate: sum('waitedLate'),
      lagMaxMs: Math.max(0, ...this.buckets.map((b) => b.lagMaxMs)),
      connectionsMax: this.connectionsMax,
      buckets: this.buckets.map((b) => ({ ...b })),
    };
  }

  private bucketAt(at: number): ScheduleBucket {
    const index = bucketIndex(at, this.startedAt, this.bucketMs);
    while (this.buckets.length <= index)
      this.buckets.push({ due: 0, answered: 0, late: 0, waited: 0, waitedLate: 0, lagMaxMs: 0 });
    return this.buckets[index]!;
  }
}
