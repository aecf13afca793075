// `reuseport-lab gate` options: flags, a JSON config file (--config, checked
// against config.schema.json, errors naming the field), and defaults, in
// that order of precedence.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Command, Option } from 'commander';
import { SetupError } from '../errors.js';
import type { LoadChoice } from '../load/modes.js';
import { DEFAULT_IDENTITY, IdentityError, parseIdentity, type IdentitySpec } from '../load/identity.js';
import { splitCommand, CommandLineError } from '../runtime/command-line.js';
import { parseReady, type ReadySpec } from '../runtime/readiness.js';
import { checkTargetUrl } from '../runtime/url.js';
import type { ScenarioOptions } from '../scenario.js';
import schema from './config.schema.json' with { type: 'json' };

const SCHEMA = schema as { properties: Record<string, unknown> };

/** The scenario's settings that the gate takes as they are. */
const SCENARIO_KEYS = ['load', 'connections', 'restarts', 'intervalMs', 'warmupMs', 'cooldownMs', 'latencyBudgetMs', 'stallFloor', 'requestTimeoutSeconds'] as const;

export interface GateOptions {
  target: { kind: 'image'; image: string; port: number; restartOn: 'container' | 'host' } | { kind: 'url'; url: URL };
  restart: string;
  ready: ReadySpec;
  /** Given by the user, or the default (used only when the server sends it). */
  identity: IdentitySpec;
  identityGiven: boolean;
  path: string;
  env: string[];
  /** The load and the verdict's limits, as the demo's scenario takes them. */
  scenario: Pick<ScenarioOptions, (typeof SCENARIO_KEYS)[number]>;
  readyTimeoutSeconds: number;
  restartTimeoutSeconds: number;
  tcpMigrateReq: 0 | 1;
  reportDir: string;
  keep: boolean;
  json: boolean;
}

/** Every flag; its config-file key is the camelCase of its name. */
export function gateCommand(): Command {
  return new Command('gate')
    .description("load your server, restart it your way, and fail when a request is lost, too slow, or the restart stalls it")
    .addOption(new Option('--image <image>', 'your image, run as it is (never built, retagged or changed)').conflicts('url'))
    .addOption(new Option('--url <url>', 'a service already running on this machine (loopback only)'))
    .option('--port <n>', '--image: the port it listens on')
    .option('--restart <command>', 'the restart command: in the container through docker exec, split like a shell line but run without one; on the host through sh -c')
    .addOption(new Option('--restart-on <where>', '--image: where the restart command runs').choices(['container', 'host']))
    .option('--ready <spec>', 'when the server is ready at start: port | http:/PATH | log:REGEX | delay:MS (default: http:PATH answers 2xx)')
    .option('--identity <spec>', 'which process answered: header:NAME | body:REGEX | none (default: header:X-Server-Pid, when the server sends it)')
    .option('--path <path>', 'the path the load requests (default: /)')
    .option('--env <KEY=VALUE...>', '--image: environment for the container')
    .addOption(new Option('--load <mode>', 'keep-alive connections, a new connection per request, or both at once (default: both)').choices(['keepalive', 'churn', 'both']))
    .option('--connections <n>', 'connections per load mode (default: 50)')
    .option('--restarts <n>', 'restarts under load (default: 3)')
    .option('--interval <seconds>', 'from one restart to the next (default: 3)')
    .option('--warmup <seconds>', 'load before the first restart (default: 2)')
    .option('--cooldown <seconds>', 'load after the last restart (default: 2)')
    .option('--latency-budget <ms>', 'a slower response fails the gate (default: 1000)')
    .option('--stall-floor <share>', 'any 500 ms of a switchover answering less than this share of the warm-up rate is a stall (default: 0.05)')
    .option('--timeout <seconds>', 'a request unanswered this long is given up on (default: 10)')
    .option('--ready-timeout <seconds>', 'time the server has to be ready at start (default: 30)')
    .option('--restart-timeout <seconds>', 'a restart running longer is ended and fails the run (default: 120)')
    .addOption(new Option('--tcp-migrate-req <0|1>', '--image: net.ipv4.tcp_migrate_req in the container (default: 1)').choices(['0', '1']))
    .option('--report-dir <dir>', 'where result.json and the report go (default: reports/gate)')
    .option('--config <file>', 'a JSON file with any of these settings (harness/gate/config.schema.json); flags override it')
    .option('--i-own-this-target', '--url: allow a target that is not on this machine')
    .option('--keep', '--image: leave the container running')
    .option('--json', 'print result.json to stdout instead of the terminal view');
}

/** The options as given: flags over the config file. */
function merged(command: Command): Record<string, unknown> {
  const flags = command.opts();
  let file: Record<string, unknown> = {};
  if (typeof flags.config === 'string') {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (error) {
      throw new SetupError(`--config ${flags.config}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new SetupError(`--config ${flags.config}: not JSON (${(error as Error).message})`);
    }
    const ajv = new Ajv({ allErrors: false });
    if (!ajv.validate(SCHEMA, file)) {
      const e = ajv.errors![0]!;
      const field = e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty: string }).additionalProperty) : e.instancePath.replace(/^\//, '') || '(top level)';
      const why = e.keyword === 'additionalProperties' ? `unknown field; the fields are ${Object.keys(SCHEMA.properties).filter((k) => k !== '$schema').join(', ')}` : e.message;
      throw new SetupError(`--config ${flags.config}: ${field}: ${why}`);
    }
  }
  const result: Record<string, unknown> = { ...file };
  for (const [key, value] of Object.entries(flags)) if (command.getOptionValueSource(key) === 'cli') result[key] = value;
  return result;
}

function number(name: string, value: unknown, min: number, max: number, whole = false): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
    throw new SetupError(`--${name} needs ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, got '${String(value)}'`);
  }
  return n;
}

export function resolveGateOptions(command: Command): GateOptions {
  const o = merged(command);
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (o.image !== undefined && o.url !== undefined) throw new SetupError('give --image or --url, not both');
  if (o.image === undefined && o.url === undefined) throw new SetupError('name the server to gate: --image IMAGE --port N, or --url http://127.0.0.1:PORT/');
  if (typeof o.restart !== 'string' || !o.restart.trim()) throw new SetupError("--restart is required: the command that restarts your server (e.g. --restart 'kill -HUP 1')");
  const pathText = (o.path as string | undefined) ?? '/';
  if (!pathText.startsWith('/')) throw new SetupError(`--path must start with /, got '${pathText}'`);

  let target: GateOptions['target'];
  let path = pathText;
  if (o.image !== undefined) {
    if (o.port === undefined) throw new SetupError('--image needs --port: the port the server listens on inside the container');
    const restartOn = (o.restartOn as 'container' | 'host' | undefined) ?? 'container';
    if (restartOn === 'container') {
      try {
        splitCommand(o.restart);
      } catch (error) {
        if (error instanceof CommandLineError) throw new SetupError(`--restart: ${error.message}`);
        throw error;
      }
    }
    target = { kind: 'image', image: String(o.image), port: number('port', o.port, 1, 65535, true), restartOn };
  } else {
    for (const key of ['port', 'restartOn', 'env', 'tcpMigrateReq', 'keep'] as const) {
      if (o[key] !== undefined) throw new SetupError(`${flag(key)} is for --image; with --url the service runs as it is`);
    }
    const url = checkTargetUrl(String(o.url), o.iOwnThisTarget === true);
    target = { kind: 'url', url };
    if (o.path === undefined) path = url.pathname + url.search;
  }

  let identity: IdentitySpec = DEFAULT_IDENTITY;
  let ready: ReadySpec = { kind: 'http', path };
  try {
    if (o.identity !== undefined) identity = parseIdentity(String(o.identity));
    if (o.ready !== undefined) ready = parseReady(String(o.ready));
  } catch (error) {
    if (error instanceof IdentityError) throw new SetupError(error.message);
    throw error;
  }
  const env = (o.env as string[] | undefined) ?? [];
  for (const pair of env) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(pair)) throw new SetupError(`--env needs KEY=VALUE, got '${pair}'`);

  return {
    target,
    restart: String(o.restart),
    ready,
    identity,
    identityGiven: o.identity !== undefined,
    path,
    env,
    scenario: {
      load: (o.load as LoadChoice | undefined) ?? 'both',
      connections: number('connections', o.connections ?? 50, 1, 1000, true),
      restarts: number('restarts', o.restarts ?? 3, 1, 1000, true),
      intervalMs: number('interval', o.interval ?? 3, 0.1, 3600) * 1000,
      warmupMs: number('warmup', o.warmup ?? 2, 1, 3600) * 1000,
      cooldownMs: number('cooldown', o.cooldown ?? 2, 0, 3600) * 1000,
      latencyBudgetMs: number('latency-budget', o.latencyBudget ?? 1000, 1, 600_000, true),
      stallFloor: number('stall-floor', o.stallFloor ?? 0.05, 0, 1),
      requestTimeoutSeconds: number('timeout', o.timeout ?? 10, 0.1, 3600),
    },
    readyTimeoutSeconds: number('ready-timeout', o.readyTimeout ?? 30, 0.1, 3600),
    restartTimeoutSeconds: number('restart-timeout', o.restartTimeout ?? 120, 0.1, 7200),
    tcpMigrateReq: Number(o.tcpMigrateReq ?? 1) === 0 ? 0 : 1,
    reportDir: String(o.reportDir ?? 'reports/gate'),
    keep: o.keep === true,
    json: o.json === true,
  };
}
