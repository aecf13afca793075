// The options model: the run settings every command that drives load shares
// (poc, gate), declared once with their defaults (defaults.ts) and ranges,
// and read into exactly what the scenario and the verdict take. Numbers are
// checked here, with one wording: `--restarts "0" is not valid: use a number
// from 1 to 1000`.
import { type Command, Option } from 'commander';
import { BUDGET_DEFAULTS, RUN_DEFAULTS } from '../defaults.js';
import { SetupError } from '../errors.js';
import type { Budgets, LongLaneSettings, RunSettings, StreamSettings } from '../scenario.js';
import { readRequests } from './request-options.js';
import { LOAD_MODELS } from '../load/modes.js';
import { PROTOCOLS } from '../load/h2-transport.js';
import {
  GRPC_SERVICES,
  type GrpcMethod,
  grpcMethodKind,
  GrpcSetupError,
  HEALTH_CHECK_PATH,
  HEALTH_WATCH_PATH,
  healthCheckKind,
} from '../load/grpc.js';
import { pathProblem } from '../load/request-line.js';

/** A number-valued flag: its range and whether it must be whole. */
export interface NumberSpec {
  min: number;
  max: number;
  whole?: boolean;
}

/** Reads `text` as a number within `spec`, or says in one line what would do. */
export function numberOption(flag: string, text: unknown, spec: NumberSpec): number {
  const raw = String(text);
  const value = typeof text === 'number' ? text : /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= spec.min && value <= spec.max))
    throw new SetupError(`${flag} ${JSON.stringify(raw)} is not valid: use a number from ${spec.min} to ${spec.max}`);
  if (spec.whole && !Number.isInteger(value)) throw new SetupError(`${flag} ${raw} must be a whole number`);
  return value;
}

/** Milliseconds in one of each unit a duration may be given in. */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/**
 * A duration flag's value in `unit`: a number with its unit (`10s`, `500ms`,
 * `2m`), or a bare number, which is in the flag's own unit, as it always was.
 * The range is in that unit too.
 */
export function durationOption(flag: string, text: unknown, unit: 's' | 'ms', spec: NumberSpec): number {
  const raw = String(text);
  const match = typeof text === 'number' ? null : /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  const value =
    typeof text === 'number'
      ? text
      : match
        ? (Number(match[1]) * UNIT_MS[(match[2] ?? unit) as keyof typeof UNIT_MS]) / UNIT_MS[unit]
        : NaN;
  if (!(value >= spec.min && value <= spec.max))
    throw new SetupError(
      `${flag} ${JSON.stringify(raw)} is not valid: give a duration from ${spec.min}${unit} to ${spec.max}${unit}, such as 10s or 500ms (a bare number is ${unit === 's' ? 'seconds' : 'ms'})`,
    );
  if (spec.whole && !Number.isInteger(value))
    throw new SetupError(`${flag} ${raw} must be a whole number of ${unit === 's' ? 'seconds' : 'ms'}`);
  return value;
}

/** A duration flag's help: its unit when the value is a bare number. */
export const inSeconds = (text: string) => `${text} (10s, 2m, 500ms; a bare number is seconds)`;
export const inMs = (text: string) => `${text} (1s, 500ms; a bare number is ms)`;

export function choiceOption<T extends string>(flag: string, text: unknown, allowed: readonly T[]): T {
  if ((allowed as readonly unknown[]).includes(text)) return text as T;
  throw new SetupError(`${flag} ${JSON.stringify(String(text))} is not one of ${allowed.join(', ')}`);
}

export const RANGES = {
  connections: { min: 1, max: 1000, whole: true },
  rate: { min: 1, max: 1_000_000 },
  loadShare: { min: 0.01, max: 1 },
  maxConnections: { min: 1, max: 10_000, whole: true },
  restarts: { min: 1, max: 1000, whole: true },
  interval: { min: 0.1, max: 3600 },
  warmup: { min: 1, max: 3600 },
  cooldown: { min: 0, max: 3600 },
  bucket: { min: 10, max: 60_000, whole: true },
  timeout: { min: 1, max: 600 },
  latencyBudget: { min: 1, max: 600_000, whole: true },
  longConnections: { min: 1, max: 100, whole: true },
  streamConnections: { min: 1, max: 100, whole: true },
  stallFloor: { min: 0, max: 1 },
} satisfies Record<string, NumberSpec>;

/** Adds the run settings and budgets to `command`, each with its default. */
export function addRunOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--load <mode>',
        'keepalive (reused connections), churn (a new connection per request), or both at once',
      ).default(RUN_DEFAULTS.load),
    )
    .addOption(
      new Option(
        '--load-model <model>',
        'open: each mode sends at a rate on a schedule, latency counted from when each request was due; closed: each connection sends as soon as it is answered, at full speed (stress)',
      ).default(RUN_DEFAULTS.loadModel),
    )
    .addOption(
      new Option(
        '--protocol <protocol>',
        'what the load modes speak: http1 (HTTP/1.1, the default), h2c (HTTP/2 in clear text, prior knowledge) or h2 (HTTP/2 over TLS: an HTTPS target); HTTP/2 runs in the open model, streams on sessions, every GOAWAY recorded',
      ),
    )
    .addOption(
      new Option(
        '--grpc <service>',
        'gRPC through the restarts: health (grpc.health.v1.Health): Check calls as the load (HTTP/2, every call classified like a stream) and Watch calls kept open as the stream lane; implies --protocol h2c (h2 for an HTTPS target)',
      ),
    )
    .addOption(
      new Option(
        '--grpc-method <pkg.Service/Method>',
        'gRPC: a unary method of your own server as the load, from --grpc-proto, its request from --grpc-body; implies --protocol h2c (h2 for an HTTPS target); with --grpc health, Watch calls too',
      ),
    )
    .addOption(new Option('--grpc-proto <file>', 'gRPC: the .proto file that declares --grpc-method'))
    .addOption(
      new Option('--grpc-body <json>', "gRPC: --grpc-method's request message as JSON, its fields by name").default(
        '{}',
      ),
    )
    .addOption(
      new Option(
        '--retry-refused',
        'HTTP/2: send a refused stream (never processed) again on another session, as a compliant client does; default: counted as failed, so the server is judged',
      ),
    )
    .addOption(
      new Option(
        '--rate <n>',
        `open model: requests per second per mode (default: ${RUN_DEFAULTS.loadShare * 100}% of what the target answers at full speed, measured just before the warm-up, split over the modes)`,
      ),
    )
    .addOption(
      new Option(
        '--load-share <share>',
        'open model without --rate: the share of the calibrated capacity the whole load drives, split over the modes',
      ).default(RUN_DEFAULTS.loadShare),
    )
    .addOption(
      new Option(
        '--max-connections <n>',
        'open model: connections each mode may open at once; a request due when all are busy waits, and its wait counts in its latency',
      ).default(RUN_DEFAULTS.maxConnections),
    )
    .addOption(
      new Option(
        '--connections <n>',
        "closed model: connections per load mode (and the open model's calibration)",
      ).default(RUN_DEFAULTS.connections),
    )
    .addOption(new Option('--restarts <n>', 'restarts under load (1 or more)').default(RUN_DEFAULTS.restarts))
    .addOption(
      new Option('--interval <duration>', inSeconds('time from one restart to the next')).default(
        RUN_DEFAULTS.intervalSeconds,
      ),
    )
    .addOption(
      new Option(
        '--warmup <duration>',
        inSeconds(
          'load before the first restart (1 s or more: the steady state that latency and stalls are judged against)',
        ),
      ).default(RUN_DEFAULTS.warmupSeconds),
    )
    .addOption(
      new Option('--cooldown <duration>', inSeconds('load after the last restart')).default(
        RUN_DEFAULTS.cooldownSeconds,
      ),
    )
    .addOption(
      new Option('--bucket <duration>', inMs('width of a histogram time bucket')).default(RUN_DEFAULTS.bucketMs),
    )
    .addOption(
      new Option('--timeout <duration>', inSeconds('a request unanswered this long is given up on (timeout)')).default(
        RUN_DEFAULTS.requestTimeoutSeconds,
      ),
    )
    .addOption(
      new Option(
        '--request <spec>',
        "a kind of request in the mix, 'METHOD PATH [@bodyfile]', repeatable, weight 1 each; default: GET on one path (a gate config file's requests take headers and weights)",
      ).argParser((spec: string, given: string[] | undefined) => [...(given ?? []), spec]),
    )
    .addOption(
      new Option(
        '--redact-header <name>',
        'a request header whose value result.json and the report write as <redacted>, repeatable; Authorization, Proxy-Authorization, Cookie and X-Api-Key always are',
      ).argParser((name: string, given: string[] | undefined) => [...(given ?? []), name]),
    )
    .addOption(
      new Option(
        '--long <path>',
        'a long-request lane: keep requests to this path (one that takes seconds, e.g. /slow?ms=2000) in flight through every restart; one cut is cut_in_flight',
      ),
    )
    .addOption(
      new Option('--long-connections <n>', 'connections of the long-request lane').default(
        RUN_DEFAULTS.longConnections,
      ),
    )
    .addOption(
      new Option(
        '--stream <kind:path>',
        'a stream lane, sse:PATH or ws:PATH: Server-Sent Events or WebSocket clients kept connected through every restart, coming back with Last-Event-ID; judged on how each ended, how soon it was back and on messages lost',
      ),
    )
    .addOption(
      new Option('--stream-connections <n>', 'clients of the stream lane').default(RUN_DEFAULTS.streamConnections),
    )
    .addOption(budgetOptions.latencyBudget())
    .addOption(budgetOptions.stallFloor());
}

/** The budgets' flags: `report` takes them too, to judge a saved run again. */
export const budgetOptions = {
  latencyBudget: () =>
    new Option('--latency-budget <duration>', inMs('a response slower than this fails the gate (slow)')).default(
      BUDGET_DEFAULTS.latencyBudgetMs,
    ),
  stallFloor: () =>
    new Option(
      '--stall-floor <share>',
      'any 500 ms of a switchover answering less than this share of the warm-up rate is a stall (0 turns it off)',
    ).default(BUDGET_DEFAULTS.stallFloor),
};

export function readStallFloor(text: unknown): number {
  return numberOption('--stall-floor', text, RANGES.stallFloor);
}

export function readLatencyBudget(text: unknown): number {
  return durationOption('--latency-budget', text, 'ms', RANGES.latencyBudget);
}

function readBudgets(values: Record<string, unknown>): Budgets {
  return {
    latencyBudgetMs: readLatencyBudget(values.latencyBudget),
    stallFloor: readStallFloor(values.stallFloor),
  };
}

function readRedactHeaders(value: unknown): string[] {
  const names = value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
  for (const name of names)
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new SetupError(`--redact-header ${JSON.stringify(name)} is not a header name`);
  return names;
}

function readLongLane(values: Record<string, unknown>): LongLaneSettings | null {
  const connections = numberOption(
    '--long-connections',
    values.longConnections ?? RUN_DEFAULTS.longConnections,
    RANGES.longConnections,
  );
  if (values.long === undefined) return null;
  const path = String(values.long);
  const problem = pathProblem(path);
  if (problem) throw new SetupError(`--long ${problem}, e.g. --long '/slow?ms=2000'`);
  return { path, connections };
}

/** --grpc-method with its .proto file and its body, or null when none is named. */
function readGrpcMethod(values: Record<string, unknown>): GrpcMethod | null {
  if (values.grpcMethod === undefined) {
    if (values.grpcProto !== undefined) throw new SetupError('--grpc-proto needs --grpc-method pkg.Service/Method');
    return null;
  }
  if (values.grpcProto === undefined)
    throw new SetupError('--grpc-method needs --grpc-proto FILE, the .proto file that declares it');
  try {
    return grpcMethodKind(String(values.grpcProto), String(values.grpcMethod), String(values.grpcBody ?? '{}'));
  } catch (error) {
    if (error instanceof GrpcSetupError) throw new SetupError(error.message);
    throw error;
  }
}

/** --grpc health's stream lane: Watch calls kept open, as many as --stream-connections says. */
function grpcStream(values: Record<string, unknown>): StreamSettings {
  const connections = numberOption(
    '--stream-connections',
    values.streamConnections ?? RUN_DEFAULTS.streamConnections,
    RANGES.streamConnections,
  );
  return { kind: 'grpc', path: HEALTH_WATCH_PATH, connections };
}

function readStream(values: Record<string, unknown>): StreamSettings | null {
  const connections = numberOption(
    '--stream-connections',
    values.streamConnections ?? RUN_DEFAULTS.streamConnections,
    RANGES.streamConnections,
  );
  if (values.stream === undefined) return null;
  const text = String(values.stream);
  const match = /^([a-z]+):(\/.*)$/s.exec(text);
  if (!match)
    throw new SetupError(
      `--stream ${JSON.stringify(text)} is not KIND:PATH; use e.g. --stream sse:/events or --stream ws:/ws`,
    );
  const kind = match[1]!;
  const problem = pathProblem(match[2]!);
  if (problem) throw new SetupError(`--stream ${problem}`);
  if (kind !== 'sse' && kind !== 'ws')
    throw new SetupError(
      `--stream ${JSON.stringify(text)}: unknown kind ${JSON.stringify(kind)}; use sse:/PATH (Server-Sent Events) or ws:/PATH (WebSocket)`,
    );
  return { kind, path: match[2]!, connections };
}

/** The run settings and budgets from parsed option values (commander's camelCase keys, or a config file's). */
export function readRunOptions(values: Record<string, unknown>): RunSettings & Budgets {
  const loadModel = choiceOption('--load-model', values.loadModel ?? RUN_DEFAULTS.loadModel, LOAD_MODELS);
  if (loadModel === 'closed' && values.rate !== undefined)
    throw new SetupError('--rate applies to the open model; drop it, or drop --load-model closed');
  if (values.rate !== undefined && values.loadShare !== undefined && values.loadShare !== RUN_DEFAULTS.loadShare)
    throw new SetupError('--load-share sets the rate from a calibration; with --rate there is none: give one of them');
  const grpc = values.grpc === undefined ? null : choiceOption('--grpc', values.grpc, GRPC_SERVICES);
  const method = readGrpcMethod(values);
  if (method && values.protocol === 'http1')
    throw new SetupError('--grpc-method runs over HTTP/2 (h2c, or h2 to an HTTPS target); drop --protocol http1');
  if (method && (values.request !== undefined || values.requests !== undefined))
    throw new SetupError(`--grpc-method sends ${method.name} as the load; drop --request`);
  if (grpc && values.protocol === 'http1')
    throw new SetupError(`--grpc ${grpc} runs over HTTP/2 (h2c, or h2 to an HTTPS target); drop --protocol http1`);
  if (grpc && (values.request !== undefined || values.requests !== undefined))
    throw new SetupError(`--grpc ${grpc} sends its own calls (${HEALTH_CHECK_PATH}); drop --request`);
  if (grpc && values.stream !== undefined)
    throw new SetupError(`--grpc ${grpc} keeps its own stream lane (${HEALTH_WATCH_PATH}); drop --stream`);
  const protocol = choiceOption('--protocol', values.protocol ?? (grpc || method ? 'h2c' : 'http1'), PROTOCOLS);
  if (protocol !== 'http1' && loadModel === 'closed')
    throw new SetupError(
      `--protocol ${protocol} runs in the open model only (streams on an arrival schedule); drop --load-model closed`,
    );
  if (values.retryRefused === true && protocol === 'http1')
    throw new SetupError('--retry-refused applies to HTTP/2 streams: add --protocol h2c or h2, or drop it');
  const settings: RunSettings & Budgets = {
    load: choiceOption('--load', values.load, ['keepalive', 'churn', 'both'] as const),
    loadModel,
    ...(protocol === 'http1' ? {} : { protocol, retryRefused: values.retryRefused === true }),
    ...(grpc ? { grpc } : {}),
    ...(method ? { grpcMethod: method.name } : {}),
    rate: values.rate === undefined ? null : numberOption('--rate', values.rate, RANGES.rate),
    loadShare: numberOption('--load-share', values.loadShare ?? RUN_DEFAULTS.loadShare, RANGES.loadShare),
    maxConnections: numberOption(
      '--max-connections',
      values.maxConnections ?? RUN_DEFAULTS.maxConnections,
      RANGES.maxConnections,
    ),
    connections: numberOption('--connections', values.connections, RANGES.connections),
    restarts: numberOption('--restarts', values.restarts, RANGES.restarts),
    intervalMs: durationOption('--interval', values.interval, 's', RANGES.interval) * 1000,
    warmupMs: durationOption('--warmup', values.warmup, 's', RANGES.warmup) * 1000,
    cooldownMs: durationOption('--cooldown', values.cooldown, 's', RANGES.cooldown) * 1000,
    bucketMs: durationOption('--bucket', values.bucket, 'ms', RANGES.bucket),
    requestTimeoutSeconds: durationOption('--timeout', values.timeout, 's', RANGES.timeout),
    requests: method ? [method.kind] : grpc ? [healthCheckKind()] : readRequests(values),
    redactHeaders: readRedactHeaders(values.redactHeader ?? values.redactHeaders),
    longLane: readLongLane(values),
    stream: grpc ? grpcStream(values) : readStream(values),
    ...readBudgets(values),
  };
  if (settings.latencyBudgetMs >= settings.requestTimeoutSeconds * 1000) {
    throw new SetupError(
      `--latency-budget ${settings.latencyBudgetMs} ms must be below --timeout (${settings.requestTimeoutSeconds} s)`,
    );
  }
  return settings;
}
