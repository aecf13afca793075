// The load modes: which ones a run drives, and what each is called for people.
// Two kinds of load fail differently: keep-alive connections are cut at a
// server's exit; a new connection per request meets a closing listener.
import { perSecond } from '../format.js';
import { type Protocol, STREAMS_PER_SESSION } from './h2-transport.js';

export type LoadChoice = 'keepalive' | 'churn' | 'both';
export type LoadMode = 'keepalive' | 'churn';

/**
 * How requests are sent. open: on an arrival schedule, whatever is
 * outstanding, latency counted from when each was due (the default: what
 * users do). closed: each connection sends its next request as soon as the
 * last is answered, at full speed (stress and the benchmarks' ceilings).
 */
export type LoadModel = 'open' | 'closed';
export const LOAD_MODELS: readonly LoadModel[] = ['open', 'closed'];

export const MODE_NAMES: Record<LoadMode, string> = { keepalive: 'keep-alive', churn: 'new connection per request' };

export function modesOf(load: LoadChoice): LoadMode[] {
  return load === 'both' ? ['keepalive', 'churn'] : [load];
}

/** The open model's rates, once known: per mode, and the calibration they came from (null: given with --rate). */
export interface OpenRates {
  rates: Partial<Record<LoadMode, number>>;
  maxConnections: number;
  calibration: { share: number; capacity: Partial<Record<LoadMode, number>> } | null;
}

/**
 * The most a calibrated rate is, per mode. Past it the open model's client
 * measures itself more than the target: a request sent on its own costs the
 * harness more than one of fifty in flight at full speed, and the
 * connections a restart makes it open again cost more still over TLS. On 2
 * cores here keep-alive HTTPS at 2,000/s sent 2.4% of its requests over
 * 100 ms late across a restart (the harness's event loop 162 ms late), at
 * 1,000/s none in 3 runs; plain keep-alive at 9,000/s alone ran late and
 * filled its pool. --rate goes beyond it (docs/how-it-works.md, "The open model").
 */
export const MAX_CALIBRATED_RATE = 1_000;

/** The open model's load in words: its rates, or how they will be chosen while the calibration has not run yet. */
function describeOpen(
  load: LoadChoice,
  open: OpenRates | null,
  rate: number | null,
  maxConnections: number,
  protocol: Protocol,
  retryRefused: boolean,
): string {
  const rateOf = (mode: LoadMode) =>
    open?.rates[mode] !== undefined
      ? perSecond(open.rates[mode]!)
      : rate !== null
        ? perSecond(rate)
        : 'a calibrated rate of';
  const http2 = protocol !== 'http1';
  const keepalive = http2
    ? `${rateOf('keepalive')} requests as streams on up to ${maxConnections} sessions of ${STREAMS_PER_SESSION} streams each, a new session when every one is full or going`
    : `${rateOf('keepalive')} requests on keep-alive connections (a pool of up to ${maxConnections}, the most recently used first, a new connection after Connection: close)`;
  const churn = http2
    ? `${rateOf('churn')} requests each on a new session (up to ${maxConnections} open)`
    : `${rateOf('churn')} requests each on a new connection (up to ${maxConnections} open)`;
  const modes = load === 'keepalive' ? keepalive : load === 'churn' ? churn : `${keepalive}; and ${churn}`;
  const calibration = open?.calibration;
  const source = calibration
    ? `; ${Math.round(calibration.share * 100)}% of what the target answered at full speed (${modesOf(load)
        .map((mode) => `${perSecond(calibration.capacity[mode] ?? 0)} ${MODE_NAMES[mode]}`)
        .join(', ')}), split over the modes, at most ${perSecond(MAX_CALIBRATED_RATE)} each`
    : open || rate !== null
      ? ''
      : '; the rates are a share of what the target answers at full speed, measured just before the warm-up';
  const client = http2
    ? `Node's http2 client over ${protocol === 'h2' ? 'TLS (h2 through ALPN)' : 'h2c with prior knowledge'}, a refused stream ${retryRefused ? 'sent again on another session' : 'not sent again'}`
    : 'raw sockets and http-parser-js';
  return `open model, ${client}: ${modes}, sent on schedule whatever is outstanding, latency counted from when each was due${source}`;
}

/** The rates once chosen, in one line: per mode, and where they came from. */
export function describeRates(open: OpenRates): string {
  const modes = Object.keys(open.rates) as LoadMode[];
  const rates = modes.map((mode) => `${perSecond(open.rates[mode]!)} ${MODE_NAMES[mode]}`).join(' and ');
  const calibration = open.calibration;
  if (!calibration) return `${rates} (--rate)`;
  const capacity = modes.map((mode) => `${perSecond(calibration.capacity[mode] ?? 0)} ${MODE_NAMES[mode]}`).join(', ');
  return `${rates}: ${Math.round(calibration.share * 100)}% of what the target answered at full speed (${capacity}), split over the modes, at most ${perSecond(MAX_CALIBRATED_RATE)} each`;
}

/** How the load was generated, for the report. */
export function describeLoad(
  options: {
    load: LoadChoice;
    connections: number;
    loadModel?: LoadModel;
    protocol?: Protocol;
    retryRefused?: boolean;
    rate?: number | null;
    maxConnections?: number;
    requests?: { name: string; weight: number }[] | null;
    longLane?: { path: string; connections: number } | null;
    stream?: { kind: string; path: string; connections: number } | null;
  },
  open: OpenRates | null = null,
): string {
  const keepalive = `autocannon, ${options.connections} keep-alive connections, made to honour Connection: close like a compliant HTTP/1.1 client`;
  const churn = `${options.connections} loops of one request per new connection (raw sockets, http-parser-js)`;
  const closed =
    options.load === 'keepalive' ? keepalive : options.load === 'churn' ? churn : `${keepalive}; and ${churn}`;
  const modes =
    options.loadModel === 'open'
      ? describeOpen(
          options.load,
          open,
          options.rate ?? null,
          options.maxConnections ?? 0,
          options.protocol ?? 'http1',
          options.retryRefused ?? false,
        )
      : options.loadModel === 'closed'
        ? `closed model at full speed (each connection sends its next request once the last is answered): ${closed}`
        : closed;
  const mix = options.requests
    ? `, sending the mix ${options.requests.map((k) => `${k.name} ×${k.weight}`).join(', ')}`
    : '';
  const lane = options.longLane
    ? `; and a long-request lane: ${options.longLane.connections} connections each keeping GET ${options.longLane.path} in flight`
    : '';
  const stream = !options.stream
    ? ''
    : options.stream.kind === 'grpc'
      ? `; and ${options.stream.connections} gRPC calls of ${options.stream.path} kept open (@grpc/grpc-js, a channel each), called again when one ends`
      : `; and ${options.stream.connections} ${options.stream.kind} clients of ${options.stream.path} coming back with Last-Event-ID`;
  return modes + mix + lane + stream;
}
