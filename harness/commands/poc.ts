// `reuseport-lab poc` (`npm run poc`): restart this project's SO_REUSEPORT
// server under load with one of its strategies, judge, report.
// Exit codes: exit-codes.ts (listed at the end of --help).
import { grpcCheck, HEALTH_CHECK_PATH, ourServerInMetadata } from '../load/grpc.js';
import { join } from 'node:path';
import chalk from 'chalk';
import { Command, Option } from 'commander';
import { IMAGE_DEFAULTS, POC_DEFAULTS, REPORT_DIRS, RESTART_DEFAULTS } from '../defaults.js';
import { SetupError, TargetError } from '../errors.js';
import { FAULT_NAMES, FAULTS, type FaultName } from '../faults.js';
import { judgedRun } from '../judged-run.js';
import { describeLoad } from '../load/modes.js';
import { buildImage } from '../runtime/docker/build-image.js';
import { DockerRuntime, imageFor } from '../runtime/ours/docker.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import { LocalRuntime } from '../runtime/ours/local.js';
import { inPrivateNetns, rerunInNetns } from '../runtime/netns.js';
import { defaultRestartTimeoutSeconds, type Runtime } from '../runtime/runtime.js';
import type { Budgets, RunSettings, ScenarioOptions } from '../scenario.js';
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from '../strategies/index.js';
import type { RestartSettings } from '../strategies/strategy.js';
import { prepareReportDir } from '../view/write-report.js';
import { parseWith } from './parse.js';
import { addRunOptions, choiceOption, durationOption, inMs, inSeconds, readRunOptions } from './run-options.js';
import { PACKAGE_ROOT as ROOT } from '../package-root.js';

const SCRIPTS_DIR = join(ROOT, 'scripts');

export type RuntimeChoice = 'auto' | 'docker' | 'local';

/** Everything `poc` takes: the run, how our scripts restart, and where it runs. */
export interface PocOptions extends RunSettings, Budgets {
  runtime: RuntimeChoice;
  strategy: StrategyName;
  fault?: FaultName;
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
}

export function pocCommand(): Command {
  const command = new Command('poc')
    .description(
      "restart this project's SO_REUSEPORT server under load, and fail when a request is lost, too slow, or a switchover stalls",
    )
    .addOption(
      new Option('--runtime <where>', 'docker when an engine answers, else local processes; docker makes it mandatory')
        .choices(['auto', 'docker', 'local'])
        .default(POC_DEFAULTS.runtime),
    )
    .addOption(
      new Option('--strategy <name>', 'how the server is replaced: one of the strategies below').default(
        POC_DEFAULTS.strategy,
      ),
    );
  addRunOptions(command);
  return command
    .addOption(
      new Option('--overlap <duration>', inMs('both servers serve this long before the old one gets SIGTERM')).default(
        RESTART_DEFAULTS.overlapMs,
      ),
    )
    .addOption(new Option('--fault <name>', `inject a fault into restart #1: ${FAULT_NAMES.join(', ')}`))
    .addOption(
      new Option(
        '--ready-timeout <duration>',
        inSeconds('time the new server has to become ready (systemd: TimeoutStartSec)'),
      ).default(RESTART_DEFAULTS.readyTimeoutSeconds),
    )
    .addOption(
      new Option(
        '--stop-timeout <duration>',
        inSeconds('time the old server has to drain before SIGKILL (systemd: TimeoutStopSec)'),
      ).default(RESTART_DEFAULTS.stopTimeoutSeconds),
    )
    .addOption(
      new Option(
        '--steer <on|off>',
        'old servers steer new connections to the new one before closing their listener; off shows what that saves',
      ).default(RESTART_DEFAULTS.steer),
    )
    .addOption(
      new Option(
        '--restart-timeout <duration>',
        inSeconds(
          'a restart running longer is ended and fails the run (default: ready + stop timeout + overlap + 30 s)',
        ),
      ),
    )
    .addOption(new Option('--report-dir <dir>', 'where result.json and the report go').default(REPORT_DIRS.poc))
    .option('--skip-build', 'docker: use the existing image instead of building it')
    .option('--keep', 'docker: leave the container running and print how to reach it')
    .addOption(
      new Option(
        '--image <name>',
        'docker: image tag to build and run (the systemd strategies use TAG-systemd)',
      ).default(IMAGE_DEFAULTS.image),
    )
    .addOption(
      new Option('--node-version <major>', 'docker: Node major version of the base images').default(
        IMAGE_DEFAULTS.nodeVersion,
      ),
    )
    .option('--json', 'print result.json to stdout instead of the terminal view')
    .addHelpText(
      'after',
      [
        '',
        'Strategies (the systemd ones run under Docker only, with systemd as PID 1):',
        ...STRATEGY_NAMES.map((name) => `  ${name.padEnd(26)}${STRATEGIES[name].summary}`),
      ].join('\n'),
    );
}

/** The options from a parsed `poc` command, checked against each other; throws SetupError with one line. */
export function resolvePocOptions(command: Command): PocOptions {
  const o = command.opts();
  const whole = { whole: true };
  const parsed: PocOptions = {
    runtime: o.runtime as RuntimeChoice,
    strategy: choiceOption('--strategy', o.strategy, STRATEGY_NAMES),
    ...readRunOptions(o),
    fault: o.fault === undefined ? undefined : choiceOption('--fault', o.fault, FAULT_NAMES),
    overlapMs: durationOption('--overlap', o.overlap, 'ms', { min: 0, max: 600_000, ...whole }),
    readyTimeout: durationOption('--ready-timeout', o.readyTimeout, 's', { min: 1, max: 3600, ...whole }),
    stopTimeout: durationOption('--stop-timeout', o.stopTimeout, 's', { min: 1, max: 3600, ...whole }),
    restartTimeout: 0,
    steer: choiceOption('--steer', o.steer, ['on', 'off'] as const) === 'on',
    reportDir: String(o.reportDir),
    build: o.skipBuild !== true,
    keep: o.keep === true,
    image: String(o.image),
    nodeVersion: String(o.nodeVersion),
    json: o.json === true,
  };
  parsed.restartTimeout =
    o.restartTimeout === undefined
      ? defaultRestartTimeoutSeconds(parsed)
      : durationOption('--restart-timeout', o.restartTimeout, 's', { min: 1, max: 7200 });
  if (!/^\d{2}$/.test(parsed.nodeVersion))
    throw new SetupError(
      `--node-version ${JSON.stringify(parsed.nodeVersion)} is not valid: use a major version such as 24`,
    );
  if (parsed.reportDir === '') throw new SetupError('--report-dir needs a directory');
  if (parsed.fault === 'one-shot-goaway' && parsed.protocol !== 'h2c')
    throw new SetupError('--fault one-shot-goaway is an HTTP/2 fault: add --protocol h2c');
  if (parsed.grpcMethod)
    throw new SetupError(
      "--grpc-method is for your own server (reuseport-lab gate); poc's server answers grpc.health.v1.Health: use --grpc health",
    );
  if (parsed.protocol === 'h2')
    throw new SetupError(
      '--protocol h2 is HTTP/2 over TLS, and poc runs our server in clear text: use --protocol h2c, or gate an HTTPS server (reuseport-lab gate --url https://...)',
    );
  if (parsed.runtime === 'local' && (parsed.keep || !parsed.build)) {
    throw new SetupError('--keep and --skip-build apply to the docker runtime only; drop them or use --runtime docker');
  }
  const refusal = parsed.fault && STRATEGIES[parsed.strategy].refuses(parsed.fault);
  if (refusal)
    throw new SetupError(`--fault ${parsed.fault} does not apply to --strategy ${parsed.strategy}: ${refusal}`);
  if (parsed.runtime !== 'auto' && !STRATEGIES[parsed.strategy].runtimes.includes(parsed.runtime)) {
    throw new SetupError(
      `--strategy ${parsed.strategy} runs on ${STRATEGIES[parsed.strategy].runtimes.join(' or ')}, not --runtime ${parsed.runtime}`,
    );
  }
  if (parsed.overlapMs >= parsed.intervalMs && parsed.restarts > 1) {
    throw new SetupError(`--overlap ${parsed.overlapMs} ms must be shorter than --interval (${parsed.intervalMs} ms)`);
  }
  return parsed;
}

/** Parses `poc`'s arguments on their own (tests, and the help text). */
export function parseOptions(argv: string[]): PocOptions {
  return resolvePocOptions(parseWith(pocCommand(), argv));
}

export function helpText(): string {
  return pocCommand().helpInformation();
}

function restartSettings(options: PocOptions): RestartSettings {
  return {
    readyTimeoutSeconds: options.readyTimeout,
    stopTimeoutSeconds: options.stopTimeout,
    overlapMs: options.overlapMs,
  };
}

/** What the scenario takes, built from the options explicitly: nothing else of the command line reaches the result. */
function scenarioOf(options: PocOptions): ScenarioOptions {
  const {
    load,
    loadModel,
    rate,
    loadShare,
    maxConnections,
    connections,
    redactHeaders,
    restarts,
    intervalMs,
    warmupMs,
    cooldownMs,
    bucketMs,
    requestTimeoutSeconds,
    latencyBudgetMs,
    stallFloor,
    protocol,
    retryRefused,
    grpc,
  } = options;
  return {
    strategy: options.strategy,
    protocol,
    retryRefused,
    ...(grpc ? { grpc, request: { path: HEALTH_CHECK_PATH, check: grpcCheck(ourServerInMetadata) } } : {}),
    load,
    loadModel,
    rate,
    loadShare,
    maxConnections,
    connections,
    redactHeaders,
    restarts,
    intervalMs,
    warmupMs,
    cooldownMs,
    bucketMs,
    requestTimeoutSeconds,
    latencyBudgetMs,
    stallFloor,
    // A fault that shows itself through the long lane brings one, unless --long names its own.
    longLane: options.longLane ?? (options.fault ? (FAULTS[options.fault].longLane ?? null) : null),
    requests: options.requests,
    stream: options.stream,
    fault: options.fault,
    restartSettings: {
      ...restartSettings(options),
      restartTimeoutSeconds: options.restartTimeout,
      steer: options.steer,
    },
  };
}

async function makeRuntime(
  options: PocOptions,
  argv: string[],
  say: (text: string) => void,
): Promise<Runtime | number> {
  const docker = connect();
  const strategy = STRATEGIES[options.strategy];
  // Inside the namespace the choice was made already: local.
  const engine = options.runtime !== 'local' && !inPrivateNetns() && (await engineAnswers(docker));
  if (!engine && !strategy.runtimes.includes('local')) {
    throw new TargetError(
      `--strategy ${strategy.name} runs under Docker only and no Docker engine answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)`,
    );
  }
  if (options.runtime === 'docker' && !engine) {
    throw new TargetError(
      'no Docker engine answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian), or use --runtime local',
    );
  }
  if (engine) {
    if (options.build) {
      const image = imageFor(options.image, strategy.image);
      say(
        chalk.dim(
          `building ${image} (Node ${options.nodeVersion}${strategy.image === 'systemd' ? ', systemd as PID 1' : ''})...`,
        ),
      );
      const interactive = process.stderr.isTTY;
      await buildImage(docker, {
        contextDir: ROOT,
        image,
        target: strategy.image,
        nodeVersion: options.nodeVersion,
        onStep: interactive ? (line) => process.stderr.write(`\r\x1b[K${chalk.dim(line.slice(0, 100))}`) : undefined,
      });
      if (interactive) process.stderr.write('\r\x1b[K');
    }
    return new DockerRuntime(docker, {
      image: options.image,
      strategy,
      settings: restartSettings(options),
      restartTimeoutSeconds: options.restartTimeout,
      keep: options.keep,
    });
  }

  if (process.platform !== 'linux')
    throw new SetupError('the local runtime needs Linux; start Docker and use --runtime docker');
  let netnsNote: string | undefined;
  if (!inPrivateNetns()) {
    const code = await rerunInNetns(SCRIPTS_DIR, ['poc', ...argv, '--runtime', 'local']);
    if (code !== null) return code;
    netnsNote =
      'no private network namespace could be made (needs root): connections queued at a closing listener may be reset';
  }
  return new LocalRuntime({
    scriptsDir: SCRIPTS_DIR,
    inPrivateNetns: inPrivateNetns(),
    netnsNote,
    strategy,
    settings: restartSettings(options),
    restartTimeoutSeconds: options.restartTimeout,
  });
}

/** Runs `poc`; `argv` is its own arguments, passed on when the run moves into a network namespace. */
export async function runPoc(options: PocOptions, argv: string[]): Promise<number> {
  // Human output goes to stderr when --json owns stdout.
  const say = (text: string) => (options.json ? process.stderr : process.stdout).write(`${text}\n`);
  prepareReportDir(options.reportDir);
  const made = await makeRuntime(options, argv, say);
  if (typeof made === 'number') return made; // the run happened in a network namespace
  const runtime = made;

  say(chalk.bold(`reuseport-lab: ${options.restarts} × ${options.strategy} restart under load`));
  say(chalk.dim(`  runtime: ${runtime.description}`));
  say(chalk.dim(`  load: ${describeLoad(options)}`));
  const { result, exitCode } = await judgedRun(runtime, scenarioOf(options), {
    reportDir: options.reportDir,
    json: options.json,
    say,
  });
  if (options.keep && runtime instanceof DockerRuntime) {
    say(
      `container kept: ${runtime.containerId?.slice(0, 12)} on http://${result.target.host}:${result.target.port}/ — remove it with: docker rm -f ${runtime.containerId?.slice(0, 12)}`,
    );
  }
  return exitCode;
}
