// Measurement only: every request a load client writes ends here exactly
// once, as an answer from a PID or as a failure with a cause, or is still in
// flight when the load stops. No budget is applied here: the slowest answers
// and the ages of what was unanswered at stop are kept exactly (the tail), so
// the verdict can apply any latency budget to the record, at the run or
// later (result/latency-budget.ts). Verdict and presentation read the
// snapshot; they never touch the clients.
import * as hdr from 'hdr-histogram-js';

/** Why a request did not count as answered. `slow` and the `timeout`s at stop are the latency budget's (result/latency-budget.ts); result/record.ts spells the same list for the document. */
export type FailureCause =
  | 'connection_reset'
  | 'connection_refused'
  | 'broken_pipe'
  | 'timeout'
  /** Written on a connection a server accepted, and the connection ended before the whole answer. */
  | 'cut_in_flight'
  /** HTTP/2: refused by the server (REFUSED_STREAM) or above a GOAWAY's last stream id: never processed, safe to send again. */
  | 'refused_stream'
  /** HTTP/2: reset at or below the last stream id the server took: it may have processed it. */
  | 'stream_reset'
  /** gRPC: the call was answered with a status other than OK (grpc-status). */
  | 'grpc_error'
  | 'silent_loss'
  | 'slow'
  | 'non_2xx'
  | 'corrupt_body'
  | 'other_error';

/** p50, p99 and max of a set of latencies, in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  /** Requests answered with a valid body (in time, once a budget is applied). */
  answered: number;
  /** Responses per PID (answered or slow). */
  pids: Record<string, number>;
  failures: Partial<Record<FailureCause, number>>;
  /** Latency of every response in the bucket (answered or slow), ms. */
  latency: LatencySummary | null;
}

export interface PidSeen {
  pid: number;
  first: number;
  last: number;
  count: number;
  /** Every X-Server-Version this PID answered with. */
  versions: string[];
}

/**
 * What a latency budget is applied to: every judged response at least
 * `aboveMs` slow, exactly, and the age of every request unanswered at stop.
 * A budget of `aboveMs` or more can be applied from it; below that, the
 * histograms alone cannot say which responses were over.
 */
export interface LatencyTail {
  aboveMs: number;
  /** [when answered, latency ms] of each response at or above `aboveMs`. */
  responses: [number, number][];
  /** Age in ms of each request still unanswered when the load stopped. */
  unansweredAtStop: number[];
}

/** Responses slower than this are listed exactly (a budget can be at most this strict to be applied later). */
export const EXACT_LATENCY_ABOVE_MS = 100;

export interface LoadSnapshot {
  startedAt: number;
  /** When the load was told to stop; buckets end here. */
  endedAt: number;
  bucketMs: number;
  /** Requests put on the wire. Every one is answered, failed or in flight at stop. */
  written: number;
  answered: number;
  failed: number;
  /** Written, neither answered nor failed when the load stopped (and, once a budget is applied, younger than it). */
  inFlightAtStop: number;
  failuresByCause: Partial<Record<FailureCause, number>>;
  pids: PidSeen[];
  buckets: Bucket[];
  tail: LatencyTail;
}

/** Where a load client reports each request. `at` is ms since the epoch. */
export interface LoadSink {
  written(at?: number): void;
  /**
   * A complete, valid 2xx response from `pid`. `judged` false: a
   * deliberately long request that a check of its own judges: counted, but
   * left out of this recorder's latency figures and its tail, so it is
   * never put to the latency budget nor read as a slow switchover.
   */
  answer(pid: number, version: string, latencyMs: number, at?: number, judged?: boolean): void;
  fail(cause: FailureCause, at?: number): void;
  /** Requests still unanswered when the load stopped, by age in ms. */
  stoppedWith(agesMs: number[]): void;
}

/**
 * Failures that got no response. A `slow` response is a failure too, but it
 * has a PID and is already in the bucket's `pids`: views that stack PIDs and
 * failures count it once.
 */
export function withoutResponse(failures: Partial<Record<FailureCause, number>>): number {
  let total = 0;
  for (const [cause, count] of Object.entries(failures)) if (cause !== 'slow') total += count ?? 0;
  return total;
}

/** Failures by cause for people: `2 connection_reset, 1 slow` ('' for none). */
export function causesText(failures: Partial<Record<FailureCause, number>>): string {
  return Object.entries(failures)
    .map(([cause, count]) => `${count} ${cause}`)
    .join(', ');
}

/** Maps a socket error code to a failure cause. */
export function causeOfError(error: unknown): FailureCause {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ECONNRESET':
      return 'connection_reset';
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'EPIPE':
      return 'broken_pipe';
    case 'ETIMEDOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timeout';
    default:
      return 'other_error';
  }
}

/**
 * Latencies in µs with two significant digits, packed: a bucket's histogram
 * stays a few KB whatever the number of requests.
 */
function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 'packed',
  });
}

/**
 * A bucket's latencies once newer buckets exist: compressed (about 0.5 KB
 * against 8 KB live) with its summary, so a soak of hundreds of restarts
 * holds its record, not a growing heap of idle histograms.
 */
interface SettledLatency {
  encoded: string;
  summary: LatencySummary | null;
  /** The exact max in µs: decoding gives only the top of its histogram bucket. */
  maxMicros: number;
}

/** Buckets this close to the newest keep a live histogram: late answers still land there cheaply. */
const LIVE_BUCKETS = 2;

/** `max`, in µs, when the histogram's own is no longer exact (decoded from its compressed form). */
export function summarize(histogram: hdr.Histogram, max = histogram.maxValue): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  // A percentile is reported as the top of its histogram bucket: never above the real max.
  return {
    count: histogram.totalCount,
    p50: ms(Math.min(histogram.getValueAtPercentile(50), max)),
    p99: ms(Math.min(histogram.getValueAtPercentile(99), max)),
    max: ms(max),
  };
}

interface RawBucket {
  answered: number;
  pids: Map<number, number>;
  failures: Map<FailureCause, number>;
  latency: hdr.Histogram | SettledLatency;
}

const isLive = (latency: RawBucket['latency']): latency is hdr.Histogram => !('encoded' in latency);
const decoded = (settled: SettledLatency) => hdr.decodeFromCompressedBase64(settled.encoded, 'packed');

function settle(histogram: hdr.Histogram, maxMicros = histogram.maxValue): SettledLatency {
  return { encoded: hdr.encodeIntoCompressedBase64(histogram), summary: summarize(histogram, maxMicros), maxMicros };
}

/** The index of the bucket an event at `at` is filed in (none after the end: the caller checks). */
export function bucketIndex(at: number, startedAt: number, bucketMs: number): number {
  return Math.max(0, Math.floor((at - startedAt) / bucketMs));
}

/** The buckets [first, last) a window [from, to) overlaps: windows count whole buckets. */
export function bucketsOverlapping(
  from: number,
  to: number,
  startedAt: number,
  bucketMs: number,
  count: number,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor((from - startedAt) / bucketMs));
  const last = Math.max(0, Math.min(count, Math.ceil((to - startedAt) / bucketMs)));
  return { first, last };
}

/** What happened in a time window: for switchover and warm-up figures. */
export interface WindowStats {
  answered: number;
  failed: number;
  latency: LatencySummary | null;
}

/** Counts answers per PID and failures per cause in fixed time buckets. */
export class Recorder implements LoadSink {
  private readonly raw: RawBucket[] = [];
  private readonly seen = new Map<number, PidSeen>();
  /** Failures per cause over the whole run, including after the end. */
  private readonly causes = new Map<FailureCause, number>();
  private writtenCount = 0;
  private answeredCount = 0;
  private failedCount = 0;
  private readonly slowest: [number, number][] = [];
  private readonly unansweredAges: number[] = [];
  private endedAt?: number;

  constructor(
    readonly bucketMs: number,
    /** Responses at least this slow are kept exactly, in the tail. */
    readonly exactAboveMs = EXACT_LATENCY_ABOVE_MS,
    readonly startedAt = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  written(): void {
    this.writtenCount++;
  }

  answer(pid: number, version: string, latencyMs: number, at = this.now(), judged = true): void {
    const entry = this.seen.get(pid);
    if (entry) {
      entry.last = Math.max(entry.last, at);
      entry.count++;
      if (!entry.versions.includes(version)) entry.versions.push(version);
    } else {
      this.seen.set(pid, { pid, first: at, last: at, count: 1, versions: [version] });
    }
    const bucket = this.bucketAt(at);
    if (bucket) {
      if (judged) recordLatency(bucket, Math.max(1, Math.round(latencyMs * 1000)));
      bucket.pids.set(pid, (bucket.pids.get(pid) ?? 0) + 1);
    }
    if (judged && latencyMs >= this.exactAboveMs) this.slowest.push([at, Math.round(latencyMs * 1000) / 1000]);
    if (bucket) bucket.answered++;
    this.answeredCount++;
  }

  fail(cause: FailureCause, at = this.now()): void {
    const bucket = this.bucketAt(at);
    if (bucket) bucket.failures.set(cause, (bucket.failures.get(cause) ?? 0) + 1);
    this.causes.set(cause, (this.causes.get(cause) ?? 0) + 1);
    this.failedCount++;
  }

  stoppedWith(agesMs: number[]): void {
    for (const age of agesMs) this.unansweredAges.push(Math.round(age));
  }

  /** Judged responses so far slower than `budgetMs` (at least the tail's floor), for a progress line. */
  slowerThan(budgetMs: number): number {
    return this.slowest.filter(([, latencyMs]) => latencyMs > budgetMs).length;
  }

  /** Totals so far, for a progress line; no budget applied. */
  totals(): { answered: number; failed: number; pids: number[] } {
    return { answered: this.answeredCount, failed: this.failedCount, pids: [...this.seen.keys()] };
  }

  /**
   * Marks the end of the measurement (the load is told to stop). Requests
   * settling later still count in the totals, not in the buckets: a bucket
   * after the end would draw the last stragglers as a rate.
   */
  end(at = this.now()): void {
    this.endedAt ??= at;
  }

  /** Answered, failed and latency over [from, to): whole buckets that overlap it. */
  window(from: number, to: number): WindowStats {
    const merged = newHistogram();
    let answered = 0;
    let failed = 0;
    let maxMicros = 0;
    const { first, last } = bucketsOverlapping(from, to, this.startedAt, this.bucketMs, this.raw.length);
    for (const bucket of this.raw.slice(first, last)) {
      answered += bucket.answered;
      for (const count of bucket.failures.values()) failed += count;
      const { latency } = bucket;
      merged.add(isLive(latency) ? latency : decoded(latency));
      maxMicros = Math.max(maxMicros, isLive(latency) ? latency.maxValue : latency.maxMicros);
    }
    return { answered, failed, latency: summarize(merged, maxMicros) };
  }

  snapshot(): LoadSnapshot {
    const buckets = this.raw.map((raw, index): Bucket => {
      const failures = Object.fromEntries(raw.failures) as Partial<Record<FailureCause, number>>;
      return {
        start: this.startedAt + index * this.bucketMs,
        answered: raw.answered,
        pids: Object.fromEntries([...raw.pids].map(([pid, count]) => [String(pid), count])),
        failures,
        latency: isLive(raw.latency) ? summarize(raw.latency) : raw.latency.summary,
      };
    });
    return {
      startedAt: this.startedAt,
      endedAt: this.endedAt ?? this.now(),
      bucketMs: this.bucketMs,
      written: this.writtenCount,
      answered: this.answeredCount,
      failed: this.failedCount,
      inFlightAtStop: this.unansweredAges.length,
      failuresByCause: Object.fromEntries(this.causes) as Partial<Record<FailureCause, number>>,
      pids: [...this.seen.values()].sort((a, b) => a.first - b.first),
      buckets,
      tail: { aboveMs: this.exactAboveMs, responses: [...this.slowest], unansweredAtStop: [...this.unansweredAges] },
    };
  }

  /** The bucket for `at`, or undefined after the end. */
  private bucketAt(at: number): RawBucket | undefined {
    if (this.endedAt !== undefined && at >= this.endedAt) return undefined;
    const index = bucketIndex(at, this.startedAt, this.bucketMs);
    while (this.raw.length <= index) {
      const settling = this.raw[this.raw.length - LIVE_BUCKETS];
      if (settling && isLive(settling.latency)) settling.latency = settle(settling.latency);
      this.raw.push({ answered: 0, pids: new Map(), failures: new Map(), latency: newHistogram() });
    }
    return this.raw[index];
  }
}

/** Records into a settled bucket too (a late answer): decoded, recorded, settled again. */
function recordLatency(bucket: RawBucket, micros: number): void {
  if (isLive(bucket.latency)) return void bucket.latency.recordValue(micros);
  const histogram = decoded(bucket.latency);
  histogram.recordValue(micros);
  bucket.latency = settle(histogram, Math.max(bucket.latency.maxMicros, micros));
}

/** One sink that reports to several recorders (the whole run and one load mode) with the same timestamp. */
export function tee(...sinks: LoadSink[]): LoadSink {
  return {
    written: (at = Date.now()) => sinks.forEach((s) => s.written(at)),
    answer: (pid, version, latencyMs, at = Date.now(), judged = true) =>
      sinks.forEach((s) => s.answer(pid, version, latencyMs, at, judged)),
    fail: (cause, at = Date.now()) => sinks.forEach((s) => s.fail(cause, at)),
    stoppedWith: (ages) => sinks.forEach((s) => s.stoppedWith(ages)),
  };
}

/** `sink`, told that every answer is long on purpose (judged false): the whole run's view of a long lane. */
export function longOnPurpose(sink: LoadSink): LoadSink {
  return {
    written: (at) => sink.written(at),
    answer: (pid, version, latencyMs, at) => sink.answer(pid, version, latencyMs, at, false),
    fail: (cause, at) => sink.fail(cause, at),
    stoppedWith: (ages) => sink.stoppedWith(ages),
  };
}

/** How one request ended. `stopped`: still unanswered when the load stopped. */
export type Outcome = (
  { ok: true; pid: number; version: string } | { ok: false; cause: FailureCause | 'stopped'; connectionFailed: boolean }
) & { latencyMs: number };

/**
 * Accounts for one outcome of a written request; `judged` false keeps a
 * deliberately long one away from the latency budget. `at` (epoch ms, now
 * when left out) is for a client that times its latencies on another clock
 * and must file them on it.
 */
export function record(sink: LoadSink, outcome: Outcome, judged = true, at?: number): void {
  if (outcome.ok) sink.answer(outcome.pid, outcome.version, outcome.latencyMs, at, judged);
  else if (outcome.cause === 'stopped') sink.stoppedWith([outcome.latencyMs]);
  else sink.fail(outcome.cause, at);
}
