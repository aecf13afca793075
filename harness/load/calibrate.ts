// Before an open-model run: what the target answers at full speed, in each
// load mode on its own, so that the run can drive a stated share of it. A
// rate picked without looking is either a load the restart is not felt under
// or one that saturates the machine, and then the verdict judges the
// machine's queue instead of the restart. The calibration drives the open
// model's own client at full speed (every connection sends its next request
// as soon as the last is answered) for a moment, and counts what was
// answered once they were all connected: on a machine the harness shares
// with the target, what that client costs is part of the capacity.
import { setTimeout as sleep } from 'node:timers/promises';
import { TargetError } from '../errors.js';
import type { LoadClients } from './clients.js';
import { MAX_CALIBRATED_RATE, MODE_NAMES, type LoadMode } from './modes.js';
import { NO_SCHEDULE } from './arrivals.js';
import { causesText, Recorder } from './recorder.js';
import type { RequestMix } from './request-mix.js';
import type { ResponseCheck } from './response-check.js';
import type { TlsSettings } from './tls.js';
import { Http2Ledger } from './h2-ledger.js';
import type { Protocol } from './h2-transport.js';

/** How long the calibration waits for the target's first valid answer (a load balancer still sorting out its backends, say). */
export const CALIBRATION_WAIT_MS = 5_000;
/** Left out of the count once the target answers: connections opening, the server's JIT warming. */
export const CALIBRATION_RAMP_MS = 300;
/** Counted: what the target answered at full speed in this long. */
export const CALIBRATION_MEASURE_MS = 1_000;
/**
 * The capacity is the median of what each slice of this length answered:
 * one slice in which the machine stalled (a SYN retransmitted after 1 s, a
 * neighbour's burst) moves a median little, and a total a lot.
 */
const SLICE_MS = 100;

/** What the calibration found, for the record: the target's capacity per mode and the share of it the run drives. */
export interface CalibrationRecord {
  /** The share of the measured capacity that the whole load drives, split evenly over the modes. */
  share: number;
  /** How long each mode was measured, ms. */
  measuredMs: number;
  /** Responses per second at full speed, per mode, each measured alone. */
  capacity: Partial<Record<LoadMode, number>>;
}

export interface CalibrationTarget {
  host: string;
  port: number;
  tls: TlsSettings | null;
  path: string;
  check?: ResponseCheck;
  /** Closed-model connections per mode. */
  connections: number;
  timeoutSeconds: number;
  /** The run's request mix: the capacity of the requests the run will send. */
  requests: RequestMix['kinds'] | null;
  /** What the run's load speaks: its capacity over HTTP/2 is not its capacity over HTTP/1.1. */
  protocol: Protocol;
}

/** The rate each mode is driven at: `share` of the capacity, split over the modes, at least 1 and at most MAX_CALIBRATED_RATE requests per second. */
export function ratesFrom(calibration: CalibrationRecord): Partial<Record<LoadMode, number>> {
  const modes = Object.keys(calibration.capacity) as LoadMode[];
  const rate = (capacity: number) =>
    Math.min(MAX_CALIBRATED_RATE, Math.max(1, Math.round((capacity * calibration.share) / modes.length)));
  return Object.fromEntries(modes.map((mode) => [mode, rate(calibration.capacity[mode]!)]));
}

/** Measures each mode alone at full speed; a mode that answers nothing is an error that says what failed. */
export async function calibrate(
  clients: LoadClients,
  modes: readonly LoadMode[],
  target: CalibrationTarget,
  share: number,
  signal?: AbortSignal,
): Promise<CalibrationRecord> {
  const capacity: Partial<Record<LoadMode, number>> = {};
  for (const mode of modes) {
    const recorder = new Recorder(SLICE_MS);
    const mix: RequestMix | undefined = target.requests
      ? { kinds: target.requests, sinkOf: () => recorder }
      : undefined;
    // The open model's own client at full speed: what the run's client and the target answer together.
    const load = clients.open(
      {
        mode,
        host: target.host,
        port: target.port,
        tls: target.tls,
        path: target.path,
        check: target.check,
        mix,
        ratePerSecond: { concurrency: target.connections },
        maxConnections: target.connections,
        maxSeconds: 30,
        timeoutSeconds: target.timeoutSeconds,
        settleMs: 1_000,
        http2:
          target.protocol === 'http1'
            ? null
            : { protocol: target.protocol, retryRefused: false, ledger: new Http2Ledger(target.protocol) },
      },
      recorder,
      NO_SCHEDULE,
    );
    let answering: number;
    try {
      // The clock starts at the first valid answer: a target still getting ready is not a slow one.
      for (const until = Date.now() + CALIBRATION_WAIT_MS; recorder.totals().answered === 0 && Date.now() < until;)
        await sleep(20, undefined, { signal });
      answering = Date.now();
      if (recorder.totals().answered > 0)
        await sleep(CALIBRATION_RAMP_MS + CALIBRATION_MEASURE_MS, undefined, { signal });
    } finally {
      recorder.end();
      await load.stop();
    }
    const from = answering + CALIBRATION_RAMP_MS;
    const slices = recorder
      .snapshot()
      .buckets.filter((b) => b.start >= from && b.start + SLICE_MS <= from + CALIBRATION_MEASURE_MS)
      .map((b) => b.answered)
      .sort((a, b) => a - b);
    const median = slices.length ? slices[Math.floor(slices.length / 2)]! : 0;
    capacity[mode] = Math.round((median * 1000) / SLICE_MS);
    if (!capacity[mode]) {
      const failures = causesText(recorder.snapshot().failuresByCause);
      throw new TargetError(
        `the calibration's ${MODE_NAMES[mode]} load got no valid answer at full speed in ${CALIBRATION_WAIT_MS / 1000} s${failures ? ` (${failures})` : ''}; check that the target answers the path, or give --rate`,
      );
    }
  }
  return { share, measuredMs: CALIBRATION_MEASURE_MS, capacity };
}
