// `reuseport-lab gate`: the same scenario, checks and report as `poc`, against
// a server that is not ours: a user's image, or a service already running.
// Options come from flags, a JSON config file (--config, checked against
// gate-config.schema.json, errors naming the field), and the defaults, in
// that order of precedence. Exit codes: exit-codes.ts (listed at the end of
// --help).
import { grpcCheck } from '../load/grpc.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import chalk from 'chalk';
import { Command, Option } from 'commander';
import { GATE_DEFAULTS, REPORT_DIRS } from '../defaults.js';
import { SetupError, TargetError } from '../errors.js';
import { judgedRun } from '../judged-run.js';
import {
  checkForeign,
  DEFAULT_IDENTITY,
  describeIdentity,
  IdentityError,
  IdentityNames,
  parseIdentity,
  type IdentitySpec,
  SWARM_IDENTITY,
} from '../load/identity.js';
import { describeLoad } from '../load/modes.js';
import { pathProblem } from '../load/request-line.js';
import type { TlsSettings } from '../load/tls.js';
import { UNKNOWN_PID } from '../load/response-check.js';
import { CommandLineError, splitCommand } from '../runtime/command-line.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { ComposeRuntime } from '../runtime/target/compose.js';
import { ImageRuntime } from '../runtime/target/image.js';
import { describeReady, parseReady, type ReadySpec } from '../runtime/readiness.js';
import { type Runtime, USER_COMMAND } from '../runtime/runtime.js';
import { SwarmRuntime } from '../runtime/target/swarm/swarm-runtime.js';
import { checkTargetUrl, UrlRuntime } from '../runtime/target/url.js';
import type { Budgets, RunSettings, ScenarioOptions } from '../scenario.js';
import { prepareReportDir } from '../view/write-report.js';
import type { RequestKindConfig } from './request-options.js';
import { addRunOptions, durationOption, inSeconds, numberOption, readRunOptions } from './run-options.js';
import schema from './gate-config.schema.json' with { type: 'json' };

const SCHEMA = schema as { properties: Record<string, unknown> };

export interface GateOptions {
  target:
    | ({ kind: 'image'; image: string; port: number; restartOn: 'container' | 'host' } & ImageRunOptions)
    /** A service of the user's Compose file (an absolute path), the whole file brought up. */
    | { kind: 'compose'; file: string; service: string; port: number; restartOn: 'container' | 'host' }
    | { kind: 'url'; url: URL }
    /** url: the load balancer in front of the service; absent: the service's own published port. */
    | { kind: 'swarm'; service: string; url?: URL };
  restart: string;
  ready: ReadySpec;
  /** Given by the user, or the default (used only when the server sends it). */
  identity: IdentitySpec;
  identityGiven: boolean;
  path: string;
  env: string[];
  /** HTTPS (an https:// URL, or --tls); null: plain HTTP. */
  tls: TlsSettings | null;
  /** The load and the verdict's budgets, read by the same model as `poc`'s. */
  scenario: RunSettings & Budgets;
  readyTimeoutSeconds: number;
  restartTimeoutSeconds: number;
  tcpMigrateReq: 0 | 1;
  reportDir: string;
  keep: boolean;
  json: boolean;
}

/** Every flag; its config-file key is the camelCase of its name. */
export function gateCommand(): Command {
  const command = new Command('gate')
    .description(
      'load your server, restart it your way, and fail when a request is lost, too slow, or the restart stalls it',
    )
    .addOption(
      new Option('--image <image>', 'your image, run as it is (never built, retagged or changed)').conflicts('url'),
    )
    .addOption(
      new Option(
        '--url <url>',
        'a service already running on this machine (loopback only); with --swarm-service, the load balancer in front of it',
      ),
    )
    .addOption(
      new Option(
        '--swarm-service <name>',
        "a replicated swarm service, loaded through its published port (or --url) while --restart updates it (default: 'docker service update --force NAME')",
      ).conflicts('image'),
    )
    .addOption(
      new Option(
        '--compose <file>',
        'a service of your Compose file, the whole file brought up as a project of its own (with --service, --port); taken down at the end',
      ).conflicts(['image', 'url', 'swarmService']),
    )
    .option('--service <name>', '--compose: the service to gate')
    .option('--port <n>', '--image, --compose: the port it listens on in the container')
    .option(
      '--restart <command>',
      'the restart command: in the container through docker exec, split like a shell line but run without one; on the host through sh -c',
    )
    .addOption(
      new Option('--restart-on <where>', '--image: where the restart command runs (default: container)').choices([
        'container',
        'host',
      ]),
    )
    .option(
      '--ready <spec>',
      'when the server is ready at start: port | http:/PATH | log:REGEX | delay:MS | healthcheck (--image: its own HEALTHCHECK says healthy) (default: http:PATH answers 2xx)',
    )
    .option(
      '--identity <spec>',
      'which process answered: header:NAME | body:REGEX | none (default: header:X-Server-Pid, when the server sends it)',
    )
    .option('--path <path>', 'the path the load requests (default: /, or the path of --url)')
    .option('--tls', '--image: it serves HTTPS on its port (an https:// --url says so itself)')
    .option(
      '--insecure',
      'HTTPS: accept a certificate that is not trusted (self-signed); without it such a target is refused before any load',
    )
    .option('--env <KEY=VALUE...>', '--image: environment for the container')
    .option(
      '--command <line>',
      "--image: the container's command instead of the image's CMD (after its ENTRYPOINT), split like a shell line",
    )
    .option(
      '--volume <SOURCE:DEST...>',
      '--image: a bind mount (a host path, relative to here) or a named volume, as docker run -v takes it (DEST:ro read-only)',
    )
    .option(
      '--network <name>',
      "--image: an existing Docker network the container joins instead of the engine's default",
    );
  addRunOptions(command);
  return command
    .addOption(
      new Option('--ready-timeout <duration>', inSeconds('time the server has to be ready at start')).default(
        GATE_DEFAULTS.readyTimeoutSeconds,
      ),
    )
    .addOption(
      new Option(
        '--restart-timeout <duration>',
        inSeconds('a restart running longer is ended and fails the run'),
      ).default(GATE_DEFAULTS.restartTimeoutSeconds),
    )
    .addOption(
      new Option('--tcp-migrate-req <0|1>', '--image: net.ipv4.tcp_migrate_req in the container (default: 1)').choices([
        '0',
        '1',
      ]),
    )
    .addOption(new Option('--report-dir <dir>', 'where result.json and the report go').default(REPORT_DIRS.gate))
    .option(
      '--config <file>',
      'a JSON file with any of these settings (harness/commands/gate-config.schema.json); flags override it',
    )
    .option('--i-own-this-target', '--url: allow a target that is not on this machine')
    .option('--keep', '--image: leave the container running')
    .option('--json', 'print result.json to stdout instead of the terminal view');
}

/** The options as given: flags over the config file over the defaults. */
function merged(command: Command): Record<string, unknown> {
  const flags = command.opts();
  let file: Record<string, unknown> = {};
  if (typeof flags.config === 'string') {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (error) {
      throw new SetupError(
        `--config ${flags.config}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new SetupError(`--config ${flags.config}: not JSON (${(error as Error).message})`);
    }
    const ajv = new Ajv({ allErrors: false });
    if (!ajv.validate(SCHEMA, file)) {
      const e = ajv.errors![0]!;
      const field =
        e.keyword === 'additionalProperties'
          ? String((e.params as { additionalProperty: string }).additionalProperty)
          : e.instancePath.replace(/^\//, '') || '(top level)';
      const why =
        e.keyword === 'additionalProperties'
          ? `unknown field; the fields are ${Object.keys(SCHEMA.properties)
              .filter((k) => k !== '$schema')
              .join(', ')}`
          : e.message;
      throw new SetupError(`--config ${flags.config}: ${field}: ${why}`);
    }
    // A body file is named from where the config file is, not from where the gate runs.
    for (const kind of (file.requests as RequestKindConfig[] | undefined) ?? []) {
      if (kind.bodyFile !== undefined) kind.bodyFile = resolve(dirname(flags.config), kind.bodyFile);
    }
    if (typeof file.grpcProto === 'string') file.grpcProto = resolve(dirname(flags.config), file.grpcProto);
    if (typeof file.compose === 'string') file.compose = resolve(dirname(flags.config), file.compose);
  }
  const given = (key: string) => command.getOptionValueSource(key) === 'cli';
  const defaults = Object.fromEntries(Object.entries(flags).filter(([key]) => !given(key)));
  const cli = Object.fromEntries(Object.entries(flags).filter(([key]) => given(key)));
  return { ...defaults, ...file, ...cli };
}

/** The gate's options from `args` as a user would type them, checked, without running anything (tests, tools). */
export function parseGateArgs(args: string[]): GateOptions {
  const command = gateCommand()
    .exitOverride()
    .action(() => {});
  command.parse(args, { from: 'user' });
  return resolveGateOptions(command);
}

export function resolveGateOptions(command: Command): GateOptions {
  const o = merged(command);
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (o.image !== undefined && o.url !== undefined) throw new SetupError('give --image or --url, not both');
  if (o.image !== undefined && o.swarmService !== undefined)
    throw new SetupError('give --image or --swarm-service, not both');
  if (o.compose !== undefined && (o.image !== undefined || o.url !== undefined || o.swarmService !== undefined))
    throw new SetupError('give --compose alone: the service it names is the target');
  if (o.image === undefined && o.url === undefined && o.swarmService === undefined && o.compose === undefined) {
    throw new SetupError(
      'name the server to gate: --image IMAGE --port N, --compose FILE --service NAME --port N, --url http://127.0.0.1:PORT/, or --swarm-service NAME',
    );
  }
  const swarmService = o.swarmService === undefined ? undefined : String(o.swarmService);
  if (swarmService !== undefined && !/^[A-Za-z0-9][\w.-]*$/.test(swarmService))
    throw new SetupError(`--swarm-service '${swarmService}' is not a service name; docker service ls lists them`);
  // A swarm service has an update command of its own; anything else must be told how it restarts.
  if (swarmService !== undefined && o.restart === undefined)
    o.restart = `docker service update --force --quiet ${swarmService}`;
  if (typeof o.restart !== 'string' || !o.restart.trim())
    throw new SetupError("--restart is required: the command that restarts your server (e.g. --restart 'kill -HUP 1')");
  if (o.path !== undefined && (o.request !== undefined || o.requests !== undefined))
    throw new SetupError('give --path or a request mix (--request, requests), not both: name the path in each request');
  const pathText = (o.path as string | undefined) ?? '/';
  const pathWrong = pathProblem(pathText);
  if (pathWrong) throw new SetupError(`--path ${pathWrong}`);

  let target: GateOptions['target'];
  let path = pathText;
  if (o.compose !== undefined) {
    for (const key of ['env', 'command', 'volume', 'network'] as const)
      if (o[key] !== undefined)
        throw new SetupError(`${flag(key)} is for --image; with --compose, set it in the Compose file`);
    if (o.service === undefined) throw new SetupError('--compose needs --service: the service of the file to gate');
    if (!/^[A-Za-z0-9][\w.-]*$/.test(String(o.service)))
      throw new SetupError(
        `--service '${String(o.service)}' is not a service name; docker compose config --services lists them`,
      );
    if (o.port === undefined)
      throw new SetupError('--compose needs --port: the port the service listens on inside its container');
    const file = resolve(String(o.compose));
    if (!existsSync(file)) throw new SetupError(`--compose ${String(o.compose)}: no such file`);
    const restartOn = (o.restartOn as 'container' | 'host' | undefined) ?? 'container';
    if (restartOn === 'container') checkRestartLine(String(o.restart));
    target = {
      kind: 'compose',
      file,
      service: String(o.service),
      port: numberOption('--port', o.port, { min: 1, max: 65535, whole: true }),
      restartOn,
    };
  } else if (o.image !== undefined) {
    if (o.service !== undefined) throw new SetupError('--service is for --compose');
    if (o.port === undefined)
      throw new SetupError('--image needs --port: the port the server listens on inside the container');
    const restartOn = (o.restartOn as 'container' | 'host' | undefined) ?? 'container';
    if (restartOn === 'container') checkRestartLine(o.restart);
    target = {
      kind: 'image',
      image: String(o.image),
      port: numberOption('--port', o.port, { min: 1, max: 65535, whole: true }),
      restartOn,
      ...imageRunOptions(o),
    };
  } else {
    for (const key of [
      'port',
      'restartOn',
      'env',
      'tcpMigrateReq',
      'keep',
      'command',
      'volume',
      'network',
      'service',
    ] as const) {
      if (o[key] !== undefined)
        throw new SetupError(
          `${flag(key)} is for ${key === 'service' ? '--compose' : '--image'}; with ${swarmService === undefined ? '--url' : '--swarm-service'} the service runs as it is`,
        );
    }
    const url = o.url === undefined ? undefined : checkTargetUrl(String(o.url), o.iOwnThisTarget === true);
    if (swarmService !== undefined && url?.protocol === 'https:')
      throw new SetupError('--swarm-service loads plain HTTP; give an http:// --url');
    target =
      swarmService !== undefined
        ? { kind: 'swarm', service: swarmService, ...(url ? { url } : {}) }
        : { kind: 'url', url: url! };
    if (o.path === undefined && url) path = url.pathname + url.search;
  }

  if (o.tls === true && target.kind === 'url')
    throw new SetupError('--tls is for --image; for --url give an https:// URL');
  const tls = target.kind === 'url' ? target.url.protocol === 'https:' : o.tls === true;
  if (o.insecure === true && !tls)
    throw new SetupError('--insecure applies to an HTTPS target only: an https:// --url, or --image with --tls');
  if (o.protocol === 'h2' && !tls)
    throw new SetupError(
      '--protocol h2 is HTTP/2 over TLS: give an https:// --url (or --image with --tls), or use --protocol h2c for clear text',
    );
  if (o.protocol === 'h2c' && tls)
    throw new SetupError('--protocol h2c is HTTP/2 in clear text; over HTTPS use --protocol h2');

  // Every replica of a fleet may be PID 20: its host name (our server's X-Server-Host) tells them apart.
  let identity: IdentitySpec = target.kind === 'swarm' ? SWARM_IDENTITY : DEFAULT_IDENTITY;
  let ready: ReadySpec = { kind: 'http', path };
  try {
    if (o.identity !== undefined) identity = parseIdentity(String(o.identity));
    if (o.ready !== undefined) ready = parseReady(String(o.ready));
  } catch (error) {
    if (error instanceof IdentityError) throw new SetupError(error.message);
    throw error;
  }
  const env = (o.env as string[] | undefined) ?? [];
  for (const pair of env)
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(pair)) throw new SetupError(`--env needs KEY=VALUE, got '${pair}'`);

  return {
    target,
    restart: String(o.restart),
    ready,
    identity,
    identityGiven: o.identity !== undefined,
    path,
    env,
    tls: tls ? { insecure: o.insecure === true } : null,
    // gRPC over HTTPS is gRPC over h2: the target's scheme says which, as it does for HTTP/1.1.
    scenario: readRunOptions(
      tls && o.protocol === undefined && (o.grpc !== undefined || o.grpcMethod !== undefined)
        ? { ...o, protocol: 'h2' }
        : o,
    ),
    readyTimeoutSeconds: durationOption('--ready-timeout', o.readyTimeout, 's', { min: 0.1, max: 3600 }),
    restartTimeoutSeconds: durationOption('--restart-timeout', o.restartTimeout, 's', { min: 0.1, max: 7200 }),
    tcpMigrateReq: Number(o.tcpMigrateReq ?? GATE_DEFAULTS.tcpMigrateReq) === 0 ? 0 : 1,
    reportDir: String(o.reportDir),
    keep: o.keep === true,
    json: o.json === true,
  };
}

async function makeRuntime(options: GateOptions): Promise<Runtime> {
  const settings = {
    identityNone: options.identity.kind === 'none',
    tls: options.tls,
    ready: options.ready,
    readyTimeoutSeconds: options.readyTimeoutSeconds,
    restartTimeoutSeconds: options.restartTimeoutSeconds,
    restart: options.restart,
  };
  if (options.target.kind === 'url') return new UrlRuntime({ ...settings, url: options.target.url });
  const docker = connect();
  const flag = `--${options.target.kind === 'swarm' ? 'swarm-service' : options.target.kind}`;
  if (!(await engineAnswers(docker)))
    throw new TargetError(
      `${flag} needs a Docker engine and none answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)`,
    );
  if (options.target.kind === 'swarm')
    return new SwarmRuntime(docker, { ...settings, service: options.target.service, url: options.target.url });
  if (options.target.kind === 'compose')
    return new ComposeRuntime(docker, {
      ...settings,
      file: options.target.file,
      service: options.target.service,
      port: options.target.port,
      restartOn: options.target.restartOn,
      tcpMigrateReq: options.tcpMigrateReq,
      keep: options.keep,
    });
  return new ImageRuntime(docker, {
    ...settings,
    image: options.target.image,
    port: options.target.port,
    restartOn: options.target.restartOn,
    command: options.target.command,
    volumes: options.target.volumes,
    network: options.target.network,
    env: options.env,
    tcpMigrateReq: options.tcpMigrateReq,
    keep: options.keep,
  });
}

/** A restart that runs in the container is argv, split like a shell line: one that does not split is refused now. */
function checkRestartLine(line: string): void {
  try {
    splitCommand(line);
  } catch (error) {
    if (error instanceof CommandLineError) throw new SetupError(`--restart: ${error.message}`);
    throw error;
  }
}

/** How the container of --image runs beyond its image: its command, its mounts, its network. */
export interface ImageRunOptions {
  /** Instead of the image's CMD; absent: the image's own. */
  command?: string[];
  /** docker run -v's form, a host path made absolute. */
  volumes: string[];
  network?: string;
}

function imageRunOptions(o: Record<string, unknown>): ImageRunOptions {
  let command: string[] | undefined;
  if (o.command !== undefined) {
    try {
      command = splitCommand(String(o.command));
    } catch (error) {
      if (error instanceof CommandLineError) throw new SetupError(`--command: ${error.message}`);
      throw error;
    }
    if (!command.length) throw new SetupError("--command is empty; drop it to run the image's own CMD");
  }
  const volumes = ((o.volume as string[] | undefined) ?? []).map((spec) => {
    const match = /^([^:]+):(\/[^:]*)(:(ro|rw))?$/.exec(spec);
    if (!match)
      throw new SetupError(
        `--volume ${JSON.stringify(spec)}: give SOURCE:DEST or SOURCE:DEST:ro, DEST an absolute path in the container`,
      );
    const [, source, dest, mode] = match as unknown as [string, string, string, string | undefined];
    // A path (./data, /srv/x) is bound from the host; a bare name is a named volume.
    const host = source.includes('/') || source.startsWith('.') ? resolve(source) : source;
    return `${host}:${dest}${mode ?? ''}`;
  });
  const network = o.network === undefined ? undefined : String(o.network);
  if (network !== undefined && !/^[A-Za-z0-9][\w.-]*$/.test(network))
    throw new SetupError(`--network '${network}' is not a network name; docker network ls lists them`);
  return { ...(command ? { command } : {}), volumes, ...(network ? { network } : {}) };
}

export async function runGate(options: GateOptions): Promise<number> {
  const say = (text: string) => (options.json ? process.stderr : process.stdout).write(`${text}\n`);
  prepareReportDir(options.reportDir);
  const runtime = await makeRuntime(options);
  const identity = describeIdentity(options.identity);
  const names = new IdentityNames();
  const scenario: ScenarioOptions = {
    strategy: USER_COMMAND,
    request: {
      path: options.path,
      check:
        options.scenario.grpc || options.scenario.grpcMethod
          ? grpcCheck((header) => checkForeign(options.identity, 200, header, '', names))
          : (status, header, body) => checkForeign(options.identity, status, header, body, names),
      names,
    },
    tls: options.tls,
    server: {
      identity,
      identityGiven: options.identityGiven,
      path: options.path,
      ready: describeReady(options.ready),
      restart: options.restart,
    },
    ...options.scenario,
  };

  say(chalk.bold(`reuseport-lab gate: ${options.scenario.restarts} × '${options.restart}' under load`));
  say(chalk.dim(`  target: ${runtime.description}`));
  say(
    chalk.dim(
      `  load: ${describeLoad(scenario)}${options.scenario.requests ? '' : `, GET ${options.path}`}; identity ${identity}; ready when ${describeReady(options.ready)}`,
    ),
  );
  const { exitCode } = await judgedRun(
    runtime,
    scenario,
    { reportDir: options.reportDir, json: options.json, say },
    {
      // A named identity that matched nothing in the warm-up is a mistake in the command line, not a verdict.
      afterWarmup: (load) =>
        options.identityGiven &&
        options.identity.kind !== 'none' &&
        load.answered > 0 &&
        !load.pids.some((p) => p.pid !== UNKNOWN_PID)
          ? `--identity ${identity} matched none of the ${load.answered} responses of the warm-up; check the header name or the regex (what it finds must be a whole number, or a name such as a host name), or use --identity none`
          : undefined,
    },
  );
  if (options.keep && runtime instanceof ComposeRuntime)
    say(
      `container kept: ${runtime.containerId?.slice(0, 12)}, in compose project ${runtime.project}; remove it with: ${runtime.downCommand()}`,
    );
  else if (options.keep && runtime instanceof ImageRuntime)
    say(
      `container kept: ${runtime.containerId?.slice(0, 12)}; remove it with: docker rm -f ${runtime.containerId?.slice(0, 12)}`,
    );
  return exitCode;
}
