// Gate a service of a user's Compose file, as they run it: the whole file is
// brought up (its networks, volumes and the services the one gated depends
// on) under a project name of the gate's own, so a stack the user already
// runs is not touched; the gated service is then judged as an image is
// (image.ts): its port, its readiness, its restart inside the container or on
// the host. An override file beside theirs adds only what the gate needs: its
// port published on 127.0.0.1, tcp_migrate_req, and the gate's label. The
// project is taken down at the end (volumes too), unless --keep.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { TargetError } from '../../errors.js';
import { findOnPath } from '../../find-on-path.js';
import { LABEL } from '../docker/engine.js';
import { ImageRuntime, type ImageRuntimeOptions } from './image.js';

export interface ComposeRuntimeOptions extends Omit<
  ImageRuntimeOptions,
  'image' | 'env' | 'command' | 'volumes' | 'network'
> {
  /** The user's Compose file, an absolute path. */
  file: string;
  service: string;
}

/** How long `up` may take (pulling is the user's: their images should be there) and `down`. */
const UP_TIMEOUT_MS = 300_000;
const DOWN_TIMEOUT_MS = 120_000;

/** Compose v2 (`docker compose`) when the engine's CLI has it, else v1 (`docker-compose`). */
async function composeCommand(): Promise<string[]> {
  const docker = findOnPath(['docker']);
  if (docker && (await run([docker, 'compose', 'version'], {}, 10_000)).code === 0) return [docker, 'compose'];
  const v1 = findOnPath(['docker-compose']);
  if (v1) return [v1];
  throw new TargetError(
    '--compose needs Docker Compose and neither docker compose nor docker-compose was found; install one (Debian: apt-get install docker-compose)',
  );
}

export class ComposeRuntime extends ImageRuntime {
  readonly project = `reuseport-lab-gate-${process.pid}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'reuseport-lab-compose-'));
  private compose: string[] = [];
  private up = false;

  constructor(
    docker: Docker,
    private readonly settings: ComposeRuntimeOptions,
  ) {
    super(docker, { ...settings, image: `${settings.service} (from ${settings.file})`, env: [] });
    this.description = `docker compose service ${settings.service} of ${settings.file} (project ${this.project}; port ${settings.port} published on 127.0.0.1, tcp_migrate_req=${settings.tcpMigrateReq})`;
  }

  /** The project and its files, for every compose command. */
  private get args(): string[] {
    return ['-p', this.project, ...this.files.flatMap((f) => ['-f', f])];
  }

  /** The files, theirs and the override: also handed to a restart on the host as COMPOSE_FILE. */
  private get files(): string[] {
    return [this.settings.file, join(this.dir, 'reuseport-lab.override.yml')];
  }

  protected override async makeContainer(): Promise<Docker.Container> {
    this.compose = await composeCommand();
    writeFileSync(this.files[1]!, overrideFor(this.settings, readFileSync(this.settings.file, 'utf8')));
    this.up = true;
    const started = await run([...this.compose, ...this.args, 'up', '-d'], {}, UP_TIMEOUT_MS);
    if (started.code !== 0)
      throw new TargetError(
        `docker compose up of ${this.settings.file} failed (exit ${started.code}): ${lastLines(started.output)}`,
      );
    const listed = await run([...this.compose, ...this.args, 'ps', '-q', this.settings.service], {}, 30_000);
    const id = listed.stdout.trim().split('\n').at(-1) ?? '';
    if (listed.code !== 0 || !/^[0-9a-f]{12,64}$/.test(id))
      throw new TargetError(
        `service ${this.settings.service} of ${this.settings.file} has no container after up; check --service against the file's services`,
      );
    const services = await run([...this.compose, ...this.args, 'ps', '--services'], {}, 30_000);
    Object.assign(this.facts, {
      compose: this.settings.file,
      'compose project': this.project,
      'compose services': services.stdout.trim().split('\n').filter(Boolean).join(', '),
    });
    return this.docker.getContainer(id);
  }

  protected override hostRestartEnv(container: Docker.Container): Record<string, string> {
    return {
      ...super.hostRestartEnv(container),
      COMPOSE_PROJECT_NAME: this.project,
      COMPOSE_FILE: this.files.join(':'),
    };
  }

  /** What takes the project down by hand (after --keep). */
  downCommand(): string {
    const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
    return [...this.compose, '-p', this.project, ...this.files.flatMap((f) => ['-f', quote(f)]), 'down', '-v'].join(
      ' ',
    );
  }

  protected override async dispose(): Promise<void> {
    try {
      if (this.up) {
        const down = await run(
          [...this.compose, ...this.args, 'down', '-v', '--remove-orphans', '-t', '10'],
          {},
          DOWN_TIMEOUT_MS,
        );
        if (down.code !== 0)
          throw new Error(`docker compose down of project ${this.project}: ${lastLines(down.output)}`);
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * The override the gate adds to the user's file: the gated service's port
 * on 127.0.0.1 (any free host port), tcp_migrate_req in its namespace, and
 * the gate's label on it. Written in the file format's version when the file
 * names one (Compose v1 refuses to merge files of different versions).
 */
export function overrideFor(
  options: Pick<ComposeRuntimeOptions, 'service' | 'port' | 'tcpMigrateReq'>,
  theirs: string,
): string {
  const version = /^version:\s*['"]?([0-9.]+)['"]?\s*$/m.exec(theirs)?.[1];
  return [
    ...(version ? [`version: '${version}'`] : []),
    'services:',
    `  ${JSON.stringify(options.service)}:`,
    '    ports:',
    `      - "127.0.0.1::${options.port}"`,
    '    sysctls:',
    `      net.ipv4.tcp_migrate_req: "${options.tcpMigrateReq}"`,
    '    labels:',
    `      ${LABEL}: gate`,
    '',
  ].join('\n');
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ').slice(-400);

/** Runs a command without a shell: its exit code, its stdout, and both streams as one (the last 20,000 characters); ended (SIGKILL) at the limit. */
function run(
  argv: string[],
  env: Record<string, string>,
  limitMs: number,
): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-20_000);
      keep(chunk);
    });
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', output: error.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout, output });
    });
  });
}
