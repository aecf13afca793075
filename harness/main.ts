// `npm run poc`: restart a SO_REUSEPORT server under load, judge, report.
// Exit codes: 0 passed, 1 the gate failed (any check), 2 usage or setup error.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { SetupError } from './errors.js';
import { helpText, type PocOptions, parseOptions } from './options.js';
import { buildImage } from './runtime/docker/build-image.js';
import { DockerRuntime, imageFor } from './runtime/docker/container-runtime.js';
import { connect, engineAnswers } from './runtime/docker/engine.js';
import { LocalRuntime } from './runtime/local.js';
import { inPrivateNetns, rerunInNetns } from './runtime/netns.js';
import type { Runtime } from './runtime/runtime.js';
import { STRATEGIES } from './strategies/index.js';
import type { RestartSettings } from './strategies/strategy.js';
import { prepareReportDir } from './view/write-report.js';
import { describeLoad } from './load/modes.js';
import { judgedRun } from './judged-run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS_DIR = join(ROOT, 'scripts');

function restartSettings(options: PocOptions): RestartSettings {
  return { readyTimeoutSeconds: options.readyTimeout, stopTimeoutSeconds: options.stopTimeout, overlapMs: options.overlapMs };
}

/** Human output goes to stderr when --json owns stdout. */
function say(options: PocOptions, text: string): void {
  (options.json ? process.stderr : process.stdout).write(`${text}\n`);
}

async function makeRuntime(options: PocOptions, argv: string[]): Promise<Runtime | number> {
  const docker = connect();
  const strategy = STRATEGIES[options.strategy];
  // Inside the namespace the choice was made already: local.
  const engine = options.runtime !== 'local' && !inPrivateNetns() && (await engineAnswers(docker));
  if (!engine && !strategy.runtimes.includes('local')) {
    throw new SetupError(`--strategy ${strategy.name} runs under Docker only and no Docker engine answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)`);
  }
  if (options.runtime === 'docker' && !engine) {
    throw new SetupError('no Docker engine answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian), or use --runtime local');
  }
  if (engine) {
    if (options.build) {
      const image = imageFor(options.image, strategy.image);
      say(options, chalk.dim(`building ${image} (Node ${options.nodeVersion}${strategy.image === 'systemd' ? ', systemd as PID 1' : ''})...`));
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
    return new DockerRuntime(docker, { image: options.image, strategy, settings: restartSettings(options), restartTimeoutSeconds: options.restartTimeout, keep: options.keep });
  }

  if (process.platform !== 'linux') throw new SetupError('the local runtime needs Linux; start Docker and use --runtime docker');
  let netnsNote: string | undefined;
  if (!inPrivateNetns()) {
    const code = await rerunInNetns(SCRIPTS_DIR, [...argv, '--runtime', 'local']);
    if (code !== null) return code;
    netnsNote = 'no private network namespace could be made (needs root): connections queued at a closing listener may be reset';
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

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(helpText());
    return 0;
  }
  prepareReportDir(options.reportDir);

  const made = await makeRuntime(options, argv);
  if (typeof made === 'number') return made; // the run happened in a network namespace
  const runtime = made;

  say(options, chalk.bold(`reuseport-lab: ${options.restarts} × ${options.strategy} restart under load`));
  say(options, chalk.dim(`  runtime: ${runtime.description}`));
  say(options, chalk.dim(`  load: ${describeLoad(options)}`));
  const scenario = { ...options, restartSettings: { ...restartSettings(options), restartTimeoutSeconds: options.restartTimeout, steer: options.steer } };
  const { result, doc } = await judgedRun(runtime, scenario, { reportDir: options.reportDir, json: options.json, say: (text) => say(options, text) });
  if (options.keep && runtime instanceof DockerRuntime) {
    say(options, `container kept: ${runtime.containerId?.slice(0, 12)} on http://${result.target.host}:${result.target.port}/ — remove it with: docker rm -f ${runtime.containerId?.slice(0, 12)}`);
  }
  return doc.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof SetupError) {
      process.stderr.write(`reuseport-lab: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`reuseport-lab: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
