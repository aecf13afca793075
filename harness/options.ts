// `npm run poc` options: parsed, validated, and documented in one table.
import { parseArgs } from 'node:util';
import { SetupError } from './errors.js';
import { FAULT_NAMES } from './faults.js';
import { defaultRestartTimeoutSeconds } from './runtime/runtime.js';
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from './strategies/index.js';
import type { ScenarioOptions } from './scenario.js';

export type RuntimeChoice = 'auto' | 'docker' | 'local';

/** Chosen from measurements on a 2-core machine: see README "Latency and stalls". */
export const DEFAULT_LATENCY_BUDGET_MS = 1000;
export const DEFAULT_STALL_FLOOR = 0.05;

/** Everything `npm run poc` takes: the scenario's options plus where and how to run it. */
export interface PocOptions extends ScenarioOptions {
  /** The demo always runs one of ours. */
  strategy: StrategyName;
  runtime: RuntimeChoice;
  overlapMs: number;
  readyTimeout: number;
  stopTimeout: number;
  /** Time limit of one restart; past it the harness ends the restart and the run. */
  restartTimeout: number;
  /** Drain line 2 on or off in every server of the run. */
  steer: boolean;
  reportDir: string;
  build: boolean;
  keep: boolean;
  image: string;
  nodeVersion: string;
  json: boolean;
  help: boolean;
}

interface Spec {
  flag: string;
  value?: string;
  help: string;
  fallback: string | boolean;
}

/** Every option, its default and its help line: `--help` prints this table. */
const SPECS: Record<string, Spec> = {
  runtime: { flag: '--runtime', value: 'auto|docker|local', fallback: 'auto', help: 'docker when an engine answers, else local processes; docker makes it mandatory' },
  strategy: { flag: '--strategy', value: 'NAME', fallback: 'reuseport', help: 'how the server is replaced: one of the strategies below' },
  load: { flag: '--load', value: 'keepalive|churn|both', fallback: 'both', help: 'keep-alive connections (autocannon), a new connection per request, or both at once' },
  connections: { flag: '--connections', value: 'N', fallback: '50', help: 'connections per load mode' },
  restarts: { flag: '--restarts', value: 'N', fallback: '3', help: 'restarts under load (1 or more)' },
  interval: { flag: '--interval', value: 'SECONDS', fallback: '2', help: 'time from one restart to the next' },
  warmup: { flag: '--warmup', value: 'SECONDS', fallback: '2', help: 'load before the first restart (1 or more: the steady state that latency and stalls are judged against)' },
  cooldown: { flag: '--cooldown', value: 'SECONDS', fallback: '2', help: 'load after the last restart' },
  overlap: { flag: '--overlap', value: 'MS', fallback: '500', help: 'both servers serve this long before the old one gets SIGTERM' },
  bucket: { flag: '--bucket', value: 'MS', fallback: '250', help: 'width of a histogram time bucket' },
  fault: { flag: '--fault', value: 'NAME', fallback: '', help: `inject a fault into restart #1: ${FAULT_NAMES.join(', ')}` },
  timeout: { flag: '--timeout', value: 'SECONDS', fallback: '10', help: 'a request unanswered this long is given up on (timeout)' },
  'latency-budget': { flag: '--latency-budget', value: 'MS', fallback: String(DEFAULT_LATENCY_BUDGET_MS), help: 'a response slower than this fails the gate (slow)' },
  'stall-floor': { flag: '--stall-floor', value: 'SHARE', fallback: String(DEFAULT_STALL_FLOOR), help: 'any 500 ms of a switchover answering less than this share of the warm-up rate is a stall (0 turns it off)' },
  'ready-timeout': { flag: '--ready-timeout', value: 'SECONDS', fallback: '10', help: 'time the new server has to become ready (systemd: TimeoutStartSec)' },
  'stop-timeout': { flag: '--stop-timeout', value: 'SECONDS', fallback: '30', help: 'time the old server has to drain before SIGKILL (systemd: TimeoutStopSec)' },
  steer: { flag: '--steer', value: 'on|off', fallback: 'on', help: 'old servers steer new connections to the new one before closing their listener; off shows what that saves' },
  'restart-timeout': { flag: '--restart-timeout', value: 'SECONDS', fallback: '', help: 'a restart running longer is ended and fails the run (default: ready + stop timeout + overlap + 30)' },
  'report-dir': { flag: '--report-dir', value: 'DIR', fallback: 'reports', help: 'where result.json is written' },
  'skip-build': { flag: '--skip-build', fallback: false, help: 'docker: use the existing image instead of building it' },
  keep: { flag: '--keep', fallback: false, help: 'docker: leave the container running and print how to reach it' },
  image: { flag: '--image', value: 'NAME', fallback: 'reuseport-lab:local', help: 'docker: image tag to build and run (the systemd strategies use TAG-systemd)' },
  'node-version': { flag: '--node-version', value: 'MAJOR', fallback: '24', help: 'docker: Node major version of the base images' },
  json: { flag: '--json', fallback: false, help: 'print result.json to stdout instead of the terminal view' },
  help: { flag: '--help', fallback: false, help: 'show this help' },
};

export function helpText(): string {
  const rows = Object.values(SPECS).map((s) => {
    const left = `  ${s.flag}${s.value ? ` ${s.value}` : ''}`;
    const fallback = typeof s.fallback === 'string' && s.fallback ? ` (default: ${s.fallback})` : '';
    return `${left.padEnd(34)}${s.help}${fallback}`;
  });
  return [
    'Usage: npm run poc -- [options]',
    '',
    'Restarts a SO_REUSEPORT server under load and checks that no request failed.',
    'Exit codes: 0 passed, 1 the gate failed (see the checks), 2 usage or setup error.',
    '',
    ...rows,
    '',
    'Strategies (the systemd ones run under Docker only, with systemd as PID 1):',
    ...STRATEGY_NAMES.map((name) => `  ${name.padEnd(32)}${STRATEGIES[name].summary}`),
  ].join('\n');
}

function choice<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SetupError(`--${name} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
}

function number(name: string, value: string, min: number, max: number): number {
  const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(parsed >= min && parsed <= max)) throw new SetupError(`--${name} ${JSON.stringify(value)} is not valid: use a number from ${min} to ${max}`);
  return parsed;
}

/** Parses argv; throws SetupError with one line for anything unknown or out of range. */
export function parseOptions(argv: string[]): PocOptions {
  const options = Object.fromEntries(
    Object.entries(SPECS).map(([name, spec]) => [name, { type: spec.value ? ('string' as const) : ('boolean' as const), default: spec.fallback }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new SetupError(`${(error as Error).message.split('\n')[0]}; see --help`);
  }
  const text = (name: string) => values[name] as string;
  const flag = (name: string) => values[name] === true;

  const parsed: PocOptions = {
    runtime: choice('runtime', text('runtime'), ['auto', 'docker', 'local'] as const),
    strategy: choice('strategy', text('strategy'), STRATEGY_NAMES),
    load: choice('load', text('load'), ['keepalive', 'churn', 'both'] as const),
    connections: number('connections', text('connections'), 1, 1000),
    restarts: number('restarts', text('restarts'), 1, 1000),
    intervalMs: number('interval', text('interval'), 0.1, 3600) * 1000,
    warmupMs: number('warmup', text('warmup'), 1, 3600) * 1000,
    cooldownMs: number('cooldown', text('cooldown'), 0, 3600) * 1000,
    overlapMs: number('overlap', text('overlap'), 0, 600_000),
    bucketMs: number('bucket', text('bucket'), 10, 60_000),
    requestTimeoutSeconds: number('timeout', text('timeout'), 1, 600),
    latencyBudgetMs: number('latency-budget', text('latency-budget'), 1, 600_000),
    stallFloor: number('stall-floor', text('stall-floor'), 0, 1),
    fault: text('fault') ? choice('fault', text('fault'), FAULT_NAMES) : undefined,
    readyTimeout: number('ready-timeout', text('ready-timeout'), 1, 3600),
    stopTimeout: number('stop-timeout', text('stop-timeout'), 1, 3600),
    restartTimeout: 0,
    steer: choice('steer', text('steer'), ['on', 'off'] as const) === 'on',
    reportDir: text('report-dir'),
    build: !flag('skip-build'),
    keep: flag('keep'),
    image: text('image'),
    nodeVersion: text('node-version'),
    json: flag('json'),
    help: flag('help'),
  };
  for (const name of ['connections', 'restarts', 'overlap', 'bucket', 'ready-timeout', 'stop-timeout', 'latency-budget'] as const) {
    if (!Number.isInteger(number(name, text(name), 0, Infinity))) throw new SetupError(`--${name} ${text(name)} must be a whole number`);
  }
  parsed.restartTimeout = text('restart-timeout') ? number('restart-timeout', text('restart-timeout'), 1, 7200) : defaultRestartTimeoutSeconds(parsed);
  if (!/^\d{2}$/.test(parsed.nodeVersion)) throw new SetupError(`--node-version ${JSON.stringify(parsed.nodeVersion)} is not valid: use a major version such as 24`);
  if (parsed.reportDir === '') throw new SetupError('--report-dir needs a directory');
  if (parsed.runtime === 'local' && (parsed.keep || !parsed.build)) {
    throw new SetupError('--keep and --skip-build apply to the docker runtime only; drop them or use --runtime docker');
  }
  const refusal = parsed.fault && STRATEGIES[parsed.strategy].refuses(parsed.fault);
  if (refusal) throw new SetupError(`--fault ${parsed.fault} does not apply to --strategy ${parsed.strategy}: ${refusal}`);
  if (parsed.runtime !== 'auto' && !STRATEGIES[parsed.strategy].runtimes.includes(parsed.runtime)) {
    throw new SetupError(`--strategy ${parsed.strategy} runs on ${STRATEGIES[parsed.strategy].runtimes.join(' or ')}, not --runtime ${parsed.runtime}`);
  }
  if (parsed.latencyBudgetMs >= parsed.requestTimeoutSeconds * 1000) {
    throw new SetupError(`--latency-budget ${parsed.latencyBudgetMs} ms must be below --timeout (${parsed.requestTimeoutSeconds} s)`);
  }
  if (parsed.overlapMs >= parsed.intervalMs && parsed.restarts > 1) {
    throw new SetupError(`--overlap ${parsed.overlapMs} ms must be shorter than --interval (${parsed.intervalMs} ms)`);
  }
  return parsed;
}
