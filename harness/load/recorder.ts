// Measurement only: every request the load clients send ends here exactly
// once, as an answer from a PID or as a failure with a cause. Verdict and
// presentation read the snapshot; they never touch the clients.

/** Why a request did not count as answered. */
export type FailureCause =
  | 'connection_reset'
  | 'connection_refused'
  | 'broken_pipe'
  | 'timeout'
  | 'silent_loss'
  | 'non_2xx'
  | 'corrupt_body'
  | 'other_error';

export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  /** Responses per PID. */
  pids: Record<string, number>;
  failures: Partial<Record<FailureCause, number>>;
  /** Latency of the answered requests, ms. */
  latency: { p50: number; p99: number; max: number } | null;
}

export interface PidSeen {
  pid: number;
  first: number;
  last: number;
  count: number;
}

export interface LoadSnapshot {
  startedAt: number;
  endedAt: number;
  bucketMs: number;
  answered: number;
  failed: number;
  failuresByCause: Partial<Record<FailureCause, number>>;
  pids: PidSeen[];
  buckets: Bucket[];
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

interface RawBucket {
  pids: Map<number, number>;
  failures: Map<FailureCause, number>;
  latencies: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Counts answers per PID and failures per cause in fixed time buckets. */
export class Recorder {
  private readonly raw: RawBucket[] = [];
  private readonly seen = new Map<number, PidSeen>();
  private answered = 0;
  private failed = 0;
  private endedAt?: number;

  constructor(
    readonly bucketMs: number,
    readonly startedAt = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  /** A 2xx with a valid body from `pid`. */
  answer(pid: number, latencyMs: number, at = this.now()): void {
    const bucket = this.bucketAt(at);
    bucket.pids.set(pid, (bucket.pids.get(pid) ?? 0) + 1);
    bucket.latencies.push(latencyMs);
    const entry = this.seen.get(pid);
    if (entry) {
      entry.last = Math.max(entry.last, at);
      entry.count++;
    } else {
      this.seen.set(pid, { pid, first: at, last: at, count: 1 });
    }
    this.answered++;
  }

  /** A request that failed, for `cause`. */
  fail(cause: FailureCause, at = this.now()): void {
    const bucket = this.bucketAt(at);
    bucket.failures.set(cause, (bucket.failures.get(cause) ?? 0) + 1);
    this.failed++;
  }

  /** Totals so far, for a progress line. */
  totals(): { answered: number; failed: number; pids: number[] } {
    return { answered: this.answered, failed: this.failed, pids: [...this.seen.keys()] };
  }

  /** Marks the end of the measurement; later calls to answer/fail still count. */
  end(at = this.now()): void {
    this.endedAt ??= at;
  }

  snapshot(): LoadSnapshot {
    const failuresByCause: Partial<Record<FailureCause, number>> = {};
    const buckets = this.raw.map((raw, index): Bucket => {
      const failures = Object.fromEntries(raw.failures) as Partial<Record<FailureCause, number>>;
      for (const [cause, count] of raw.failures) failuresByCause[cause] = (failuresByCause[cause] ?? 0) + count;
      const sorted = raw.latencies.slice().sort((a, b) => a - b);
      return {
        start: this.startedAt + index * this.bucketMs,
        pids: Object.fromEntries([...raw.pids].map(([pid, count]) => [String(pid), count])),
        failures,
        latency: sorted.length ? { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! } : null,
      };
    });
    return {
      startedAt: this.startedAt,
      endedAt: this.endedAt ?? this.now(),
      bucketMs: this.bucketMs,
      answered: this.answered,
      failed: this.failed,
      failuresByCause,
      pids: [...this.seen.values()].sort((a, b) => a.first - b.first),
      buckets,
    };
  }

  private bucketAt(at: number): RawBucket {
    const index = Math.max(0, Math.floor((at - this.startedAt) / this.bucketMs));
    while (this.raw.length <= index) this.raw.push({ pids: new Map(), failures: new Map(), latencies: [] });
    return this.raw[index]!;
  }
}
