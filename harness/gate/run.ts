// `reuseport-lab gate`: the same scenario, verdict and report as the demo,
// against a server that is not ours. Exit codes: 0 passed, 1 the gate failed
// (a failed restart command included), 2 usage or setup error.
import chalk from 'chalk';
import { SetupError } from '../errors.js';
import { connect, engineAnswers } from '../runtime/docker/engine.js';
import type { Runtime } from '../runtime/runtime.js';
import { judgedRun } from '../judged-run.js';
import { describeLoad } from '../load/modes.js';
import { checkForeign, describeIdentity } from '../load/identity.js';
import { UNKNOWN_PID } from '../load/response-check.js';
import { ImageRuntime } from '../runtime/image.js';
import { describeReady } from '../runtime/readiness.js';
import { USER_COMMAND } from '../runtime/runtime.js';
import { UrlRuntime } from '../runtime/url.js';
import type { ScenarioOptions } from '../scenario.js';
import { prepareReportDir } from '../view/write-report.js';
import type { GateOptions } from './options.js';

const BUCKET_MS = 250;

async function makeTarget(options: GateOptions): Promise<Runtime> {
  const settings = { identityNone: options.identity.kind === 'none', ready: options.ready, readyTimeoutSeconds: options.readyTimeoutSeconds, restartTimeoutSeconds: options.restartTimeoutSeconds, restart: options.restart };
  if (options.target.kind === 'url') return new UrlRuntime({ ...settings, url: options.target.url });
  const docker = connect();
  if (!(await engineAnswers(docker))) throw new SetupError('--image needs a Docker engine and none answers; start Docker (or run scripts/setup/docker-engine.sh as root on Debian)');
  return new ImageRuntime(docker, { ...settings, image: options.target.image, port: options.target.port, restartOn: options.target.restartOn, env: options.env, tcpMigrateReq: options.tcpMigrateReq, keep: options.keep });
}

export async function runGate(options: GateOptions): Promise<number> {
  const say = (text: string) => (options.json ? process.stderr : process.stdout).write(`${text}\n`);
  prepareReportDir(options.reportDir);
  const runtime = await makeTarget(options);
  const identity = describeIdentity(options.identity);
  const scenario: ScenarioOptions = {
    strategy: USER_COMMAND,
    request: { path: options.path, check: (status, header, body) => checkForeign(options.identity, status, header, body) },
    server: { identity, identityGiven: options.identityGiven, path: options.path, ready: describeReady(options.ready), restart: options.restart },
    ...options.scenario,
    bucketMs: BUCKET_MS,
  };

  say(chalk.bold(`reuseport-lab gate: ${options.scenario.restarts} × '${options.restart}' under load`));
  say(chalk.dim(`  target: ${runtime.description}`));
  say(chalk.dim(`  load: ${describeLoad(scenario)}, GET ${options.path}; identity ${identity}; ready when ${describeReady(options.ready)}`));
  const { doc } = await judgedRun(runtime, scenario, { reportDir: options.reportDir, json: options.json, say }, {
    // A named identity that matched nothing in the warm-up is a mistake in the command line, not a verdict.
    afterWarmup: (load) =>
      options.identityGiven && options.identity.kind !== 'none' && load.answered > 0 && !load.pids.some((p) => p.pid !== UNKNOWN_PID)
        ? `--identity ${identity} matched none of the ${load.answered} responses of the warm-up; check the header name or the regex (its first group must capture a whole number), or use --identity none`
        : undefined,
  });
  if (options.keep && runtime instanceof ImageRuntime) say(`container kept: ${runtime.containerId?.slice(0, 12)}; remove it with: docker rm -f ${runtime.containerId?.slice(0, 12)}`);
  return doc.passed ? 0 : 1;
}
