// One run: start the server, drive load, restart it N times at an interval,
// stop the load, and hand back everything measured as one plain object. The
// runtime and the load clients are given: judged-run.ts passes the real ones
// (load/clients.ts), scenario.test.ts fakes.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from './deadline.js';
import { SetupError, TargetError } from './errors.js';
import { FAULTS, FAULTY_RESTART, type FaultName } from './faults.js';
import type { LoadClients } from './load/clients.js';
import type { RunningStreams, StreamKind, StreamLaneRecord } from './load/stream-lane.js';
import type { RunningLoad } from './load/keepalive-load.js';
import type { IdentityNames } from './load/identity.js';
import type { RequestKind, RequestMix } from './load/request-mix.js';
import type { TlsSettings } from './load/tls.js';
import { Http2Ledger, type Http2Record } from './load/h2-ledger.js';
import { probeHttp2, type Protocol } from './load/h2-transport.js';
import type { GrpcService } from './load/grpc.js';
import {
  EXACT_LATENCY_ABOVE_MS,
  type LoadSnapshot,
  longOnPurpose,
  type Outcome,
  record,
  Recorder,
  tee,
  type WindowStats,
} from './load/recorder.js';
import { type HarnessBucket, HarnessMonitor } from './load/harness-monitor.js';
import { NetCounterLog, type NetCounterRecord } from './runtime/net-counters.js';
import { parseServerLog, type ServerEnding } from './runtime/server-log.js';
import type { Leftovers, RestartRecord, Runtime, Sight, Started, Target } from './runtime/runtime.js';
import type { FleetRecord } from './runtime/runtime.js';
import { type LoadChoice, type LoadMode, type LoadModel, modesOf, type OpenRates } from './load/modes.js';
import { type ScheduleRecord, ScheduleRecorder } from './load/arrivals.js';
import { calibrate, type CalibrationRecord, ratesFrom } from './load/calibrate.js';
import { checkOurServer, type ResponseCheck } from './load/response-check.js';
import { switchoverWindows, untilAnswered, warmupWindow } from './strategies/timeline.js';

/** How the user described a server that the gate runs (for the report): what is loaded, which process answered, when ready, how restarted. */
export interface ServerDescription {
  /** `header:NAME`, `body:REGEX` or `none`. */
  identity: string;
  /** The identity was named by the user (a default that never matches means: no identity). */
  identityGiven: boolean;
  path: string;
  ready: string;
  restart: string;
}

/** The load and its timing: what a command's options give the scenario (commands/run-options.ts). */
export interface RunSettings {
  load: LoadChoice;
  /** open: requests on an arrival schedule; closed: each connection as fast as it is answered. */
  loadModel: LoadModel;
  /** Open model: requests per second per mode; null: a share (`loadShare`) of what a calibration measures. */
  rate: number | null;
  /** Open model: the share of the calibrated capacity the whole load drives. */
  loadShare: number;
  /** Open model: connections each mode may have open at once. */
  maxConnections: number;
  /** Closed model: connections (or loops) per mode; the calibration's too. */
  connections: number;
  /** What the load modes speak (load/h2-transport.ts); absent: HTTP/1.1. The long and stream lanes stay HTTP/1.1. */
  protocol?: Protocol;
  /** HTTP/2: a refused stream is sent again on another session, as a compliant client does. */
  retryRefused?: boolean;
  /** gRPC through the restarts (load/grpc.ts): its calls are the request mix and the stream lane; absent: none. */
  grpc?: GrpcService;
  /** A user's own unary gRPC method as the load (`pkg.Service/Method`, --grpc-method); absent: none. */
  grpcMethod?: string;
  /** Request headers whose values the record writes as `<redacted>`, beside the usual secrets (Authorization, Cookie, ...). */
  redactHeaders: string[];
  restarts: number;
  intervalMs: number;
  warmupMs: number;
  cooldownMs: number;
  bucketMs: number;
  requestTimeoutSeconds: number;
  /** The request mix (load/request-mix.ts), results kept per kind; null: GET on one path. */
  requests: RequestKind[] | null;
  /** A few connections that keep a long request in flight through every restart (load/long-lane.ts); null: none. */
  longLane: LongLaneSettings | null;
  /** A few streams (SSE or WebSocket) kept open through every restart (load/stream-lane.ts); null: none. */
  stream: StreamSettings | null;
}

export interface StreamSettings {
  kind: StreamKind;
  path: string;
  connections: number;
}

export interface LongLaneSettings {
  path: string;
  connections: number;
}

/** The budgets a run is judged against. */
export interface Budgets {
  /** A response slower than this fails the gate (cause `slow`). */
  latencyBudgetMs: number;
  /** Any 500 ms of a switchover answering fewer than this share of what the warm-up answers in as long is a stall (checks/load.ts). */
  stallFloor: number;
}

export interface ScenarioOptions extends RunSettings, Budgets {
  /** How the server is restarted: a strategy's name, or the user's command (runtime.ts USER_COMMAND). */
  strategy: string;
  /** What the load requests and how a response is judged; default: GET / of our own server. */
  request?: { path: string; check: ResponseCheck; names?: IdentityNames };
  /** The target serves HTTPS (gate --url https://, --tls); every load speaks TLS to it. */
  tls?: TlsSettings | null;
  server?: ServerDescription;
  fault?: FaultName;
  /** How the runtime restarts (for the report; the runtime applies them). */
  restartSettings?: {
    overlapMs: number;
    readyTimeoutSeconds: number;
    stopTimeoutSeconds: number;
    restartTimeoutSeconds: number;
    /** Our servers steer new connections away before closing their listener (drain line 2); off: DRAIN_STEER=off, the control. */
    steer: boolean;
  };
}

/** What was injected, and what became of the injected long request. */
export interface FaultRecord {
  name: FaultName;
  summary: string;
  restartIndex: number;
  slowRequest?: { path: string; outcome: Outcome };
}

/** One load mode's own accounting, its steady state before the first restart, and each switchover as this mode saw it. */
export interface ModeResult {
  mode: LoadMode;
  load: LoadSnapshot;
  /** HTTP/2: every GOAWAY its sessions got, and how each stream that was not answered ended; null over HTTP/1.1. */
  http2: Http2Record | null;
  /** Open model: what fell due when, and whether it went out on time; null in the closed model. */
  schedule: ScheduleRecord | null;
  /** The warm-up (its first bucket, the ramp-up, left out). */
  steady: WindowStats;
  switchovers: { index: number; stats: WindowStats }[];
}

/** From a restart's trigger until its old server is gone (or the restart ended, if none was stopped). */
export interface SwitchoverWindow {
  index: number;
  from: number;
  to: number;
  stats: WindowStats;
}

export interface ScenarioResult {
  options: ScenarioOptions;
  runtime: { kind: string; description: string; facts: Record<string, string>; observes: Sight };
  target: Target;
  /** Every request of the run: both modes and the fault's long request. */
  load: LoadSnapshot;
  /** Open model without --rate: what the target answered at full speed before the run, and the share driven. */
  calibration: CalibrationRecord | null;
  modes: ModeResult[];
  /** The long-request lane's own accounting (its requests are in `load` too); null without one. */
  longLane: (LongLaneSettings & { load: LoadSnapshot; latency: WindowStats['latency'] }) | null;
  /** With a request mix: each kind's own accounting (its requests are in `load` and the modes too); null without one. */
  requests: { kind: RequestKind; load: LoadSnapshot; latency: WindowStats['latency'] }[] | null;
  /** The stream lane: its events and each time a stream ended; null without one. */
  stream: ({ kind: StreamKind; path: string } & StreamLaneRecord) | null;
  /** The warm-up over all modes. */
  steady: WindowStats;
  switchovers: SwitchoverWindow[];
  restarts: RestartRecord[];
  fault?: FaultRecord;
  /** How each server ended, from the servers' own log lines; null with the reason when the log could not be read. */
  servers: ServerEnding[] | null;
  serversError: string | null;
  /** The kernel's TCP counters of the servers' network namespace, per restart (net-counters.ts). */
  netCounters: NetCounterRecord;
  /** The harness's own event-loop delay and the machine's CPU, per bucket (harness-monitor.ts). */
  harness: HarnessBucket[];
  /** Processes, zombies and fds left in the container; null where not checked or when the probe failed. */
  leftovers: Leftovers | null;
  leftoversError: string | null;
  /** Set when the run did not finish (Ctrl-C, a hung restart, a lost engine, ...). */
  interrupted?: { reason: string; stack?: string };
  /** Identities that were names (a replica's host name), by the number they were recorded under; null: none. */
  identityNames: Record<string, string> | null;
  /** A fleet runtime's replicas over the run (runtime.fleet()); null for one server. */
  fleet: FleetRecord | null;
}

export interface ScenarioHooks {
  signal?: AbortSignal;
  /** Called once the warm-up is over; a string ends the run as a usage error (SetupError) with that message. */
  afterWarmup?: (load: LoadSnapshot) => string | undefined;
  onRecorder?: (recorder: Recorder) => void;
  /** Open model: the rates once chosen (after the calibration, when there is one). */
  onRates?: (rates: OpenRates) => void;
  onRestart?: (record: RestartRecord) => void;
}

/** Why the run stopped early; the stack only for errors nobody expected, so they can be found. */
function interruption(error: unknown, signal: AbortSignal | undefined): { reason: string; stack?: string } {
  if (signal?.aborted) return { reason: String(signal.reason ?? 'interrupted') };
  if (!(error instanceof Error)) return { reason: String(error) };
  // A Docker API error (statusCode) means the engine or the container went away: expected.
  const expected = error instanceof DeadlineError || error instanceof SetupError || 'statusCode' in error;
  return expected ? { reason: error.message } : { reason: error.message, stack: error.stack };
}

/** The recorders of a run (all requests, each load mode on its own, the long lane) and the loads writing to them. */
interface Loads {
  total: Recorder;
  perMode: Map<LoadMode, Recorder>;
  /** Open model: each mode's schedule. */
  schedules: Map<LoadMode, ScheduleRecorder>;
  /** HTTP/2: each mode's sessions and streams. */
  http2: Map<LoadMode, Http2Ledger>;
  lane?: Recorder;
  /** With a request mix: one recorder per kind, in the mix's order. */
  perKind: Recorder[];
  streams?: RunningStreams;
  running: RunningLoad[];
}

/**
 * Starts one load per mode against `target`, each reporting to its mode's
 * recorder and the total; `open` for the open model. With `drive` false
 * (a run interrupted before its load began) the recorders stay empty.
 */
function startLoads(
  clients: LoadClients,
  options: ScenarioOptions,
  target: Target,
  startedAt: number,
  open: OpenRates | null,
  drive = true,
): Loads {
  // Exact latencies from the budget down, at least: the verdict applies the budget to them.
  const exactAboveMs = Math.min(EXACT_LATENCY_ABOVE_MS, options.latencyBudgetMs);
  const total = new Recorder(options.bucketMs, exactAboveMs, startedAt);
  const perMode = new Map(
    modesOf(options.load).map((mode) => [mode, new Recorder(options.bucketMs, exactAboveMs, startedAt)]),
  );
  const plannedMs = options.warmupMs + options.restarts * options.intervalMs + options.cooldownMs;
  // Hard bound for the load clients in case stop() is never reached.
  const maxSeconds = Math.ceil(plannedMs / 1000) + 120;
  const common = {
    maxSeconds,
    timeoutSeconds: options.requestTimeoutSeconds,
    settleMs: options.latencyBudgetMs,
    check: options.request?.check,
  };
  const tls = options.tls ?? null;
  const path = options.request?.path ?? '/';
  const perKind = (options.requests ?? []).map(() => new Recorder(options.bucketMs, exactAboveMs, startedAt));
  // Each mode's requests go to the total, to the mode, and to their kind.
  const mixOf = (mode: Recorder): RequestMix | undefined =>
    options.requests ? { kinds: options.requests, sinkOf: (kind) => tee(total, mode, perKind[kind]!) } : undefined;
  const running: RunningLoad[] = [];
  const schedules = new Map<LoadMode, ScheduleRecorder>();
  const http2 = new Map<LoadMode, Http2Ledger>();
  const protocol = options.protocol ?? 'http1';
  if (!drive) return { total, perMode, schedules, http2, perKind, running };
  if (open) {
    for (const [mode, recorder] of perMode) {
      const ratePerSecond = open.rates[mode]!;
      const schedule = new ScheduleRecorder(ratePerSecond, options.maxConnections, startedAt, options.bucketMs);
      schedules.set(mode, schedule);
      const ledger = protocol === 'http1' ? undefined : new Http2Ledger(protocol);
      if (ledger) http2.set(mode, ledger);
      running.push(
        clients.open(
          {
            ...common,
            mode,
            host: target.host,
            port: target.port,
            tls,
            path,
            ratePerSecond,
            maxConnections: options.maxConnections,
            mix: mixOf(recorder),
            http2:
              ledger && protocol !== 'http1' ? { protocol, retryRefused: options.retryRefused ?? false, ledger } : null,
          },
          tee(total, recorder),
          schedule,
        ),
      );
    }
  }
  const keepalive = open ? undefined : perMode.get('keepalive');
  if (keepalive)
    running.push(
      clients.keepalive(
        {
          ...common,
          url: `${tls ? 'https' : 'http'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`,
          connections: options.connections,
          mix: mixOf(keepalive),
        },
        tee(total, keepalive),
      ),
    );
  const churn = open ? undefined : perMode.get('churn');
  if (churn)
    running.push(
      clients.churn(
        {
          ...common,
          path,
          host: target.host,
          port: target.port,
          tls,
          concurrency: options.connections,
          mix: mixOf(churn),
        },
        tee(total, churn),
      ),
    );
  let lane: Recorder | undefined;
  if (options.longLane) {
    lane = new Recorder(options.bucketMs, exactAboveMs, startedAt);
    const check = options.request?.check ?? checkOurServer;
    running.push(
      clients.longLane(
        {
          host: target.host,
          port: target.port,
          tls,
          ...options.longLane,
          timeoutSeconds: options.requestTimeoutSeconds,
          check,
        },
        tee(longOnPurpose(total), lane),
      ),
    );
  }
  const streams = options.stream
    ? clients.streamLane(options.stream.kind, {
        host: target.host,
        port: target.port,
        tls,
        path: options.stream.path,
        connections: options.stream.connections,
      })
    : undefined;
  if (streams) running.push(streams);
  return { total, perMode, schedules, http2, lane, perKind, streams, running };
}

/** Every recorder of a run: the total, then each lane's. */
function recordersOf(loads: Loads): Recorder[] {
  return [loads.total, ...loads.perMode.values(), ...(loads.lane ? [loads.lane] : []), ...loads.perKind];
}

/**
 * What each lane measured, once the load stopped: the modes with their steady
 * state and switchovers, the mix's kinds, the long lane, the streams.
 */
function laneResults(
  loads: Loads,
  options: ScenarioOptions,
  times: {
    startedAt: number;
    stoppedAt: number;
    warmup: { from: number; to: number };
    windows: { index: number; from: number; to: number }[];
  },
): Pick<ScenarioResult, 'modes' | 'longLane' | 'requests' | 'stream'> {
  const { startedAt, stoppedAt, warmup, windows } = times;
  return {
    modes: [...loads.perMode].map(([mode, recorder]) => ({
      mode,
      load: recorder.snapshot(),
      schedule: loads.schedules.get(mode)?.record() ?? null,
      http2: loads.http2.get(mode)?.snapshot() ?? null,
      steady: recorder.window(warmup.from, warmup.to),
      switchovers: windows.map((w) => ({ index: w.index, stats: recorder.window(w.from, w.to) })),
    })),
    longLane:
      loads.lane && options.longLane
        ? { ...options.longLane, load: loads.lane.snapshot(), latency: loads.lane.window(startedAt, stoppedAt).latency }
        : null,
    requests: options.requests
      ? options.requests.map((kind, index) => ({
          kind,
          load: loads.perKind[index]!.snapshot(),
          latency: loads.perKind[index]!.window(startedAt, stoppedAt).latency,
        }))
      : null,
    stream:
      loads.streams && options.stream
        ? { kind: options.stream.kind, path: options.stream.path, ...loads.streams.record() }
        : null,
  };
}

/**
 * The fault's long request, sent on a connection the server has already
 * accepted and given a moment to start on, before the restart begins.
 * Counted like any request, but long on purpose: its own check judges it,
 * not the latency budget.
 */
async function sendLongRequest(
  clients: LoadClients,
  target: Target,
  total: Recorder,
  path: string,
  timeoutSeconds: number,
): Promise<{ settled: Promise<{ path: string; outcome: Outcome }> }> {
  total.written();
  const long = clients.longRequest({ ...target, timeoutSeconds }, path);
  const settled = long.outcome.then((outcome) => {
    record(total, outcome, false);
    return { path, outcome };
  });
  await long.sent;
  await sleep(100);
  return { settled };
}

/** What the runtime can tell after the load: how each server ended, and (unless the run was cut short) what was left behind. */
async function probeAfterRun(
  started: Started,
  interrupted: boolean,
): Promise<Pick<ScenarioResult, 'servers' | 'serversError' | 'leftovers' | 'leftoversError'>> {
  const probed: Pick<ScenarioResult, 'servers' | 'serversError' | 'leftovers' | 'leftoversError'> = {
    servers: null,
    serversError: null,
    leftovers: null,
    leftoversError: null,
  };
  try {
    probed.servers = parseServerLog(await started.serverLog());
  } catch (error) {
    probed.serversError = `the servers' log could not be read: ${(error as Error).message}`;
  }
  if (interrupted) return probed;
  try {
    probed.leftovers = await started.leftovers();
  } catch (error) {
    probed.leftoversError = `the leftovers probe failed: ${(error as Error).message}`;
  }
  return probed;
}

/** Runs the scenario; the caller owns the runtime and closes it. */
export async function runScenario(
  runtime: Runtime,
  clients: LoadClients,
  options: ScenarioOptions,
  hooks: ScenarioHooks = {},
): Promise<ScenarioResult> {
  const fault = options.fault ? FAULTS[options.fault] : undefined;
  const serverEnv = [
    ...(fault?.serverEnv ?? []),
    ...(options.restartSettings?.steer === false ? ['DRAIN_STEER=off'] : []),
  ];
  const started = await runtime.start(serverEnv);
  const target = started.target;
  const counters = new NetCounterLog(started.netCounters());
  await counters.take('start');
  const { calibration, open, interrupted: cut } = await openRates(clients, options, target, hooks.signal);
  if (open) hooks.onRates?.(open);
  const startedAt = Date.now();
  const monitor = new HarnessMonitor(options.bucketMs, startedAt);
  monitor.start();
  const loads = startLoads(clients, options, target, startedAt, open, !cut);
  const { total, running } = loads;
  hooks.onRecorder?.(total);

  const restarts: RestartRecord[] = [];
  const faultRecord: FaultRecord | undefined =
    options.fault && fault ? { name: options.fault, summary: fault.summary, restartIndex: FAULTY_RESTART } : undefined;
  let slowRequest: Promise<{ path: string; outcome: Outcome }> | undefined;
  let interrupted: ScenarioResult['interrupted'] = cut;
  if (!cut)
    try {
      await sleep(options.warmupMs, undefined, { signal: hooks.signal });
      const unusable = hooks.afterWarmup?.(total.snapshot());
      if (unusable) {
        await Promise.all(running.map((load) => load.stop()));
        throw new SetupError(unusable);
      }
      for (let index = 1; index <= options.restarts; index++) {
        const faulty = index === FAULTY_RESTART && fault !== undefined;
        if (faulty && fault.slowRequestMs) {
          ({ settled: slowRequest } = await sendLongRequest(
            clients,
            target,
            total,
            `/slow?ms=${fault.slowRequestMs(options.intervalMs)}`,
            options.requestTimeoutSeconds + 60,
          ));
        }
        await counters.take(`before #${index}`);
        const done = await started.restart({
          index,
          version: `v${index + 1}`,
          ...(faulty ? { tweak: fault.tweak, timeoutSeconds: fault.restartTimeoutSeconds } : {}),
        });
        restarts.push(done);
        hooks.onRestart?.(done);
        // A hung restart ends the run: what it left behind is unknown.
        if (done.timedOut) throw new DeadlineError(done.timedOut);
        const spent = Date.now() - done.triggeredAt;
        const pause = index < options.restarts ? options.intervalMs - spent : options.cooldownMs;
        await sleep(Math.max(0, pause), undefined, { signal: hooks.signal });
      }
    } catch (error) {
      if (error instanceof SetupError && !restarts.length && !hooks.signal?.aborted) {
        monitor.stop();
        throw error;
      }
      interrupted = interruption(error, hooks.signal);
    }

  // Buckets end when the load is told to stop: stragglers count, but draw no rate.
  const stoppedAt = Date.now();
  for (const recorder of recordersOf(loads)) recorder.end(stoppedAt);
  await Promise.all(running.map((load) => load.stop()));
  monitor.stop();
  await counters.take('end');
  if (slowRequest && faultRecord) faultRecord.slowRequest = await slowRequest;

  const warmup = warmupWindow(startedAt, options.bucketMs, restarts, stoppedAt);
  const load = total.snapshot();
  const windows = untilAnswered(
    switchoverWindows(restarts, runtime.observes.restartEvents === true, stoppedAt),
    load.tail.responses,
    stoppedAt,
  );
  const probed = await probeAfterRun(started, interrupted !== undefined);
  return {
    options,
    runtime: { kind: runtime.kind, description: runtime.description, facts: runtime.facts, observes: runtime.observes },
    target,
    load,
    calibration,
    ...laneResults(loads, options, { startedAt, stoppedAt, warmup, windows }),
    steady: total.window(warmup.from, warmup.to),
    switchovers: windows.map((w) => ({ ...w, stats: total.window(w.from, w.to) })),
    restarts,
    fault: faultRecord,
    netCounters: counters.record(),
    harness: monitor.snapshot(),
    ...probed,
    interrupted,
    identityNames: namesOf(options),
    fleet: started.fleet?.() ?? null,
  };
}

/**
 * The open model's rates: --rate for every mode, or a share of what the
 * target answers at full speed, measured now (load/calibrate.ts). Null in
 * the closed model.
 */
async function openRates(
  clients: LoadClients,
  options: ScenarioOptions,
  target: Target,
  signal?: AbortSignal,
): Promise<{ calibration: CalibrationRecord | null; open: OpenRates | null; interrupted?: { reason: string } }> {
  if (options.loadModel !== 'open') return { calibration: null, open: null };
  const protocol = options.protocol ?? 'http1';
  if (protocol !== 'http1') {
    const probe = options.requests?.[0] ?? {
      method: 'GET',
      path: options.request?.path ?? '/',
      headers: {},
      body: null,
    };
    const problem = await probeHttp2({ host: target.host, port: target.port, tls: options.tls ?? null }, probe);
    if (problem)
      throw new TargetError(
        `--protocol ${protocol}: the target on ${target.host}:${target.port} did not answer HTTP/2 (${problem.slice(0, 200)}); drop --protocol, or point it at a server that speaks ${protocol}`,
      );
  }
  const modes = modesOf(options.load);
  if (options.rate !== null)
    return {
      calibration: null,
      open: {
        rates: Object.fromEntries(modes.map((mode) => [mode, options.rate!])),
        maxConnections: options.maxConnections,
        calibration: null,
      },
    };
  const calibrationTarget = {
    host: target.host,
    port: target.port,
    tls: options.tls ?? null,
    path: options.request?.path ?? '/',
    check: options.request?.check,
    connections: options.connections,
    timeoutSeconds: options.requestTimeoutSeconds,
    requests: options.requests,
    protocol: options.protocol ?? 'http1',
  };
  try {
    const calibration = await calibrate(clients, modes, calibrationTarget, options.loadShare, signal);
    return {
      calibration,
      open: { rates: ratesFrom(calibration), maxConnections: options.maxConnections, calibration },
    };
  } catch (error) {
    // Stopped before any load: the run is reported as interrupted, with nothing measured.
    if (signal?.aborted)
      return {
        calibration: null,
        open: null,
        interrupted: { reason: `${String(signal.reason ?? 'interrupted')} during the calibration, before any load` },
      };
    throw error;
  }
}

function namesOf(options: ScenarioOptions): Record<string, string> | null {
  const names = options.request?.names?.names();
  return names && Object.keys(names).length ? names : null;
}
