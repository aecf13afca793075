// The record of a run: what the scenario measured, as one plain object in the
// shape result.json declares (result/record.ts), judged at the run's latency
// budget. Nothing of the command line beyond the run's parameters, and no
// credential, goes in.
import type { LatencyTail } from './load/recorder.js';
import { describeLoad, type LoadMode, type OpenRates } from './load/modes.js';
import { moveLatencyBudget } from './result/latency-budget.js';
import { RESULT_SCHEMA_VERSION, type RunParameters, type RunRecord } from './result/record.js';
import type { FleetRecord } from './runtime/runtime.js';
import type { ScenarioResult } from './scenario.js';

/** Headers whose values are credentials: never written into an artifact (matched without regard to case). */
export const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'] as const;

/** `headers` as the record keeps them: the value of a secret header, or of one the user named (--redact-header), is `<redacted>`. */
export function redacted(headers: Record<string, string>, named: readonly string[] = []): Record<string, string> {
  const secret = new Set<string>([...SECRET_HEADERS, ...named.map((name) => name.toLowerCase())]);
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, secret.has(name.toLowerCase()) ? '<redacted>' : value]),
  );
}

/** The open model's rates as the run drove them (each mode's schedule), or null in the closed model. */
function openRatesOf(result: ScenarioResult): OpenRates | null {
  if (result.options.loadModel !== 'open') return null;
  const rates = Object.fromEntries(
    result.modes.flatMap((m) => (m.schedule ? [[m.mode, m.schedule.ratePerSecond]] : [])),
  ) as Partial<Record<LoadMode, number>>;
  return { rates, maxConnections: result.options.maxConnections, calibration: result.calibration };
}

/** The run parameters, and nothing else (no output paths, no flags of the command line). */
function parameters(result: ScenarioResult): RunParameters {
  const options = result.options;
  return {
    strategy: options.strategy,
    ...(options.server ? { server: options.server } : {}),
    load: options.load,
    loadModel: options.loadModel,
    loadDescription: describeLoad(options, openRatesOf(result)),
    /** Open model: the rate per mode given with --rate; null: calibrated (see calibration), or the closed model. */
    rate: options.loadModel === 'open' ? options.rate : null,
    /** Open model: connections per mode at most; null in the closed model. */
    maxConnections: options.loadModel === 'open' ? options.maxConnections : null,
    connections: options.connections,
    restarts: options.restarts,
    intervalMs: options.intervalMs,
    warmupMs: options.warmupMs,
    cooldownMs: options.cooldownMs,
    bucketMs: options.bucketMs,
    requestTimeoutSeconds: options.requestTimeoutSeconds,
    latencyBudgetMs: options.latencyBudgetMs,
    stallFloor: options.stallFloor,
    fault: options.fault ?? null,
    restartSettings: options.restartSettings ?? null,
    longLane: options.longLane,
    // The kinds as sent, without their bodies: the size says enough, and a body may hold what a report should not.
    requests:
      options.requests?.map(({ name, method, path, headers, body, weight }) => ({
        name,
        method,
        path,
        headers: redacted(headers, options.redactHeaders),
        bodyBytes: body?.length ?? 0,
        weight,
      })) ?? null,
    stream: options.stream,
    // Absent for plain HTTP, as in every run before HTTPS targets; the same for HTTP/1.1.
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.protocol && options.protocol !== 'http1'
      ? { protocol: options.protocol, retryRefused: options.retryRefused ?? false }
      : {}),
    ...(options.grpc ? { grpc: options.grpc } : {}),
    ...(options.grpcMethod ? { grpcMethod: options.grpcMethod } : {}),
  };
}

/**
 * What a run measured, as one plain object (every time in ms since the
 * epoch), judged at the run's latency budget: the counts say which responses
 * were too slow; the tail keeps what any other budget needs.
 */
export function recordOf(result: ScenarioResult): RunRecord {
  return moveLatencyBudget(measured(result), Infinity, result.options.latencyBudgetMs);
}

/** The record as the recorders left it: no latency budget applied (its parameters name the one to apply). */
function measured(result: ScenarioResult): RunRecord {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    answered: result.load.answered,
    failed: result.load.failed,
    failuresByCause: result.load.failuresByCause,
    written: result.load.written,
    inFlightAtStop: result.load.inFlightAtStop,
    interrupted: result.interrupted ?? null,
    startedAt: result.load.startedAt,
    endedAt: result.load.endedAt,
    parameters: parameters(result),
    calibration: result.calibration,
    runtime: result.runtime,
    target: result.target,
    pids: result.load.pids,
    modes: result.modes.map(({ mode, load, steady, switchovers, schedule, http2 }) => ({
      mode,
      written: load.written,
      answered: load.answered,
      failed: load.failed,
      inFlightAtStop: load.inFlightAtStop,
      failuresByCause: load.failuresByCause,
      steady,
      switchovers,
      buckets: load.buckets,
      latencyTail: load.tail as LatencyTail | null,
      schedule,
      // Absent over HTTP/1.1, as in every run before HTTP/2.
      ...(http2 ? { http2 } : {}),
    })),
    longLane: result.longLane
      ? {
          path: result.longLane.path,
          connections: result.longLane.connections,
          written: result.longLane.load.written,
          answered: result.longLane.load.answered,
          failed: result.longLane.load.failed,
          inFlightAtStop: result.longLane.load.inFlightAtStop,
          failuresByCause: result.longLane.load.failuresByCause,
          latency: result.longLane.latency,
          buckets: result.longLane.load.buckets,
        }
      : null,
    requests:
      result.requests?.map(({ kind, load, latency }) => ({
        name: kind.name,
        method: kind.method,
        path: kind.path,
        weight: kind.weight,
        written: load.written,
        answered: load.answered,
        failed: load.failed,
        inFlightAtStop: load.inFlightAtStop,
        failuresByCause: load.failuresByCause,
        latency,
        latencyTail: load.tail as LatencyTail | null,
      })) ?? null,
    stream: result.stream,
    steady: result.steady,
    switchovers: result.switchovers,
    restarts: result.restarts,
    fault: result.fault ?? null,
    servers: result.servers,
    serversError: result.serversError,
    netCounters: result.netCounters,
    harness: result.harness,
    leftovers: result.leftovers,
    leftoversError: result.leftoversError,
    bucketMs: result.load.bucketMs,
    buckets: result.load.buckets,
    /** Null in a run recorded before schema 5: it can be judged only at its own budget. */
    latencyTail: result.load.tail as LatencyTail | null,
    // Both absent from runs recorded before fleets: read as null.
    identityNames: result.identityNames as Record<string, string> | null | undefined,
    fleet: result.fleet as FleetRecord | null | undefined,
  };
}
