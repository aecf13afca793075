// action.yml's steps run as a runner runs them: its inputs as INPUT_*
// variables, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
// as files of a temporary runner, the package from `npm pack` of this
// checkout. No runner can be reached from here; what the runner itself adds
// (the artifact upload) is GitHub's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../harness/runtime/docker/build-image.js';
import { connect, engineAnswers, LABEL } from '../../harness/runtime/docker/engine.js';
import { isCI } from '../../test/ci.js';
import { packTarball } from '../../test/package.js';
import { ROOT, tempDir } from '../../test/processes.js';

const docker = connect();
const mustRun = (await engineAnswers(docker)) || isCI();
if (!mustRun) console.warn('action: no Docker engine answers; skipped outside CI (run scripts/setup/docker-engine.sh)');

const OURS = 'reuseport-lab:test';
const ACTION = readFileSync(join(ROOT, 'action.yml'), 'utf8');

/** A runner's files for one job: the workspace is where steps run. */
function runner() {
  const dir = tempDir('reuseport-lab-runner-');
  const files = {
    RUNNER_TEMP: join(dir, 'temp'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
  };
  for (const file of [files.GITHUB_PATH, files.GITHUB_OUTPUT, files.GITHUB_STEP_SUMMARY]) writeFileSync(file, '');
  for (const sub of [files.RUNNER_TEMP, join(dir, 'workspace')]) mkdirSync(sub);
  return { workspace: join(dir, 'workspace'), env: { ...files, GITHUB_ACTION_PATH: ROOT } };
}

/** One step of action.yml: `bash $GITHUB_ACTION_PATH/scripts/action/NAME.sh` with the step's inputs. */
function step(
  name: 'install' | 'gate',
  job: ReturnType<typeof runner>,
  inputs: Record<string, string>,
  path = process.env.PATH,
) {
  const run = spawnSync('bash', [join(ROOT, 'scripts', 'action', `${name}.sh`)], {
    cwd: job.workspace,
    encoding: 'utf8',
    env: { ...process.env, ...job.env, ...inputs, PATH: path },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The steps' declared env, by script: what action.yml hands each script. */
function stepEnv(): Record<string, string[]> {
  const steps: Record<string, string[]> = {};
  for (const block of ACTION.split(/\n {4}- name: /).slice(1)) {
    const script = /scripts\/action\/(\w+)\.sh/.exec(block)?.[1];
    if (script)
      steps[script] = [...block.matchAll(/^ {8}(INPUT_\w+): \$\{\{ inputs\.([\w-]+) \}\}$/gm)].map(
        (m) => `${m[1]}=${m[2]}`,
      );
  }
  return steps;
}

describe('action.yml', () => {
  it("hands each script the inputs it reads, named after the action's inputs", () => {
    const declared = [...ACTION.matchAll(/^ {2}([\w-]+):\n {4}description:/gm)].map((m) => m[1]);
    const steps = stepEnv();
    expect(Object.keys(steps).sort()).toEqual(['gate', 'install']);
    for (const [script, env] of Object.entries(steps)) {
      const source = readFileSync(join(ROOT, 'scripts', 'action', `${script}.sh`), 'utf8');
      const read = [...new Set([...source.matchAll(/\$\{?(INPUT_\w+)/g)].map((m) => m[1]))].sort();
      expect(env.map((pair) => pair.split('=')[0]).sort(), `${script}.sh reads ${read.join(', ')}`).toEqual(read);
      for (const pair of env) {
        const [variable, input] = pair.split('=') as [string, string];
        expect(declared).toContain(input);
        expect(variable).toBe(`INPUT_${input.toUpperCase().replace(/-/g, '_')}`);
      }
    }
  });
});

describe("the gate step's own shell, with a stand-in gate on the PATH", () => {
  /** A `reuseport-lab` that writes its arguments one per line and exits with `code`. */
  function standIn(code: number) {
    const job = runner();
    const bin = join(job.workspace, 'bin');
    mkdirSync(bin);
    writeFileSync(join(job.workspace, 'gate.json'), '{}');
    writeFileSync(
      join(bin, 'reuseport-lab'),
      `#!/bin/sh\nfor a in "$@"; do printf '[%s]\\n' "$a" >>"${join(job.workspace, 'argv')}"; done\nexit ${code}\n`,
      { mode: 0o755 },
    );
    const gate = (args: string) =>
      step(
        'gate',
        job,
        { INPUT_CONFIG: 'gate.json', INPUT_ARGS: args, INPUT_REPORT_DIR: 'out' },
        `${bin}:${process.env.PATH}`,
      );
    const argv = () => readFileSync(join(job.workspace, 'argv'), 'utf8').trim().split('\n').slice(5);
    return { gate, argv };
  }

  it('splits args as a shell splits words, a quoted value kept whole, nothing evaluated', () => {
    const { gate, argv } = standIn(0);
    const run = gate(
      `--restarts 5 --request 'POST /x @b.json' --path "/a b" --identity 'body:PID=\\d+' --env 'X=$(touch pwned)'`,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(argv()).toEqual([
      '[--restarts]',
      '[5]',
      '[--request]',
      '[POST /x @b.json]',
      '[--path]',
      '[/a b]',
      '[--identity]',
      '[body:PID=\\d+]',
      '[--env]',
      '[X=$(touch pwned)]',
    ]);
  });

  it('refuses args with an unbalanced quote in one line, exit 2, without running the gate', () => {
    const { gate } = standIn(0);
    const run = gate(`--request 'POST /x`);
    expect(run.code).toBe(2);
    expect(run.stdout.trim()).toMatch(
      /^::error::the args input does not split into words \(.+\); quote each flag's value whole/,
    );
  });

  it.each([
    [2, '::error::the zero-downtime gate did not run: a flag or the config is wrong (exit 2)'],
    [3, '::warning::the zero-downtime gate was inconclusive'],
    [4, '::error::the zero-downtime gate could not run the target (exit 4'],
    [5, '::error::the zero-downtime gate stopped on an internal error (exit 5)'],
    [130, '::warning::the zero-downtime gate was interrupted (exit 130)'],
  ])('says what exit %i means in its annotation, and ends with it', (code, annotation) => {
    const run = standIn(code).gate('');
    expect(run.code).toBe(code);
    expect(run.stdout).toContain(annotation);
  });
});

describe.runIf(mustRun)("action.yml's steps, run as a runner runs them", () => {
  let tarball = '';
  const labelled = async () =>
    (await docker.listContainers({ all: true, filters: { label: [LABEL] } })).map((c) => c.Id);
  let before = new Set<string>();

  beforeAll(async () => {
    before = new Set(await labelled());
    await buildImage(docker, { contextDir: ROOT, image: OURS, nodeVersion: '24' });
    tarball = packTarball();
  }, 900_000);

  afterAll(async () => {
    expect((await labelled()).filter((id) => !before.has(id))).toEqual([]);
  });

  /** Installs (step 1), then gates with `config` (step 2) on the PATH step 1 left. */
  function job(config: object, args = '--restarts 2 --interval 2 --warmup 1 --cooldown 1') {
    const job = runner();
    writeFileSync(join(job.workspace, 'gate.json'), JSON.stringify(config));
    const install = step('install', job, { INPUT_PACKAGE: tarball });
    const added = readFileSync(job.env.GITHUB_PATH, 'utf8').trim();
    const gate = step(
      'gate',
      job,
      { INPUT_CONFIG: 'gate.json', INPUT_ARGS: args, INPUT_REPORT_DIR: 'reports/zero-downtime' },
      `${added}:${process.env.PATH}`,
    );
    return {
      job,
      install,
      added,
      gate,
      summary: readFileSync(job.env.GITHUB_STEP_SUMMARY, 'utf8'),
      output: readFileSync(job.env.GITHUB_OUTPUT, 'utf8'),
    };
  }

  it('a passing gate: the package installed under RUNNER_TEMP and on GITHUB_PATH, exit 0, the summary on the job page', () => {
    const run = job({ image: OURS, port: 8080, restart: '/app/scripts/restart.sh' });
    expect(run.install.code, run.install.stderr).toBe(0);
    expect(run.added).toBe(join(run.job.env.RUNNER_TEMP, 'reuseport-lab', 'bin'));
    expect(run.gate.code, run.gate.stdout.slice(-1500) + run.gate.stderr).toBe(0);
    expect(run.output).toBe('exit-code=0\n');
    expect(run.summary).toMatch(/^### reuseport-lab: ✅ passed/);
    expect(run.summary).toBe(readFileSync(join(run.job.workspace, 'reports', 'zero-downtime', 'summary.md'), 'utf8'));
  }, 180_000);

  it('a naive stop-then-start restart fails the step: exit 1, an error annotation, the summary all the same', () => {
    const run = job({ image: OURS, port: 8080, restart: '/app/scripts/naive-restart.sh' });
    expect(run.gate.code, run.gate.stderr).toBe(1);
    expect(run.output).toBe('exit-code=1\n');
    expect(run.gate.stdout).toContain(
      '::error::the zero-downtime gate failed: a restart lost or delayed requests (report: reports/zero-downtime)',
    );
    expect(run.summary).toMatch(/^### reuseport-lab: ❌ failed/);
  }, 180_000);

  it('a restart command that is not there: exit 4, said as a target that could not run, not as a lost request', () => {
    const run = job({ image: OURS, port: 8080, restart: '/app/scripts/no-such-restart.sh' });
    expect(run.gate.code, run.gate.stdout.slice(-1500) + run.gate.stderr).toBe(4);
    expect(run.output).toBe('exit-code=4\n');
    expect(run.gate.stderr).toMatch(
      /restart #1 exited 12[67]: its command never ran \(not found, or not executable, where it was run\).*; fix --restart/,
    );
    expect(run.gate.stdout).toContain('::error::the zero-downtime gate could not run the target (exit 4');
    expect(run.gate.stdout).not.toContain('lost or delayed');
  }, 180_000);

  it('a config that is not there: exit 2 in one line, before any install is needed', () => {
    const job = runner();
    const gate = step('gate', job, {
      INPUT_CONFIG: 'missing.json',
      INPUT_ARGS: '',
      INPUT_REPORT_DIR: 'reports/zero-downtime',
    });
    expect(gate.code).toBe(2);
    expect(gate.stdout.trim()).toBe(`::error::config missing.json not found (relative to ${job.workspace})`);
  });
});
