// Gate a service of a user's Compose file, as they run it: the whole file is
// brought up (its networks, volumes and the services the one gated depends
// on) under a project name of the gate's own, so a stack the user already
// runs is not touched; the gated service is then judged as an image is
// (image.ts): its port, its readiness, its restart inside the container or on
// the host. An override file beside theirs adds only what the gate needs: its
// port published on 127.0.0.1, tcp_migrate_req, and the gate's label. The
// project is taken down at the end (volumes too), unless --keep.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { TargetError } from '../../errors.js';
import { findOnPath } from '../../find-on-path.js';
import { LABEL } from '../docker/engine.js';
import { type CommandRun, runCommand, said } from '../host-command.js';
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
  if (docker && (await runCommand([docker, 'compose', 'version'], {}, 10_000)).exitCode === 0)
    return [docker, 'compose'];
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
    const started = await runCommand([...this.compose, ...this.args, 'up', '-d'], {}, UP_TIMEOUT_MS);
    if (started.exitCode !== 0)
      throw new TargetError(
        `docker compose up of ${this.settings.file} failed (exit ${started.exitCode}): ${lastLines(started)}`,
      );
    const listed = await runCommand([...this.compose, ...this.args, 'ps', '-q', this.settings.service], {}, 30_000);
    const id = listed.stdout.trim().split('\n').at(-1) ?? '';
    if (listed.exitCode !== 0 || !/^[0-9a-f]{12,64}$/.test(id))
      throw new TargetError(
        `service ${this.settings.service} of ${this.settings.file} has no container after up; check --service against the file's services`,
      );
    const services = await runCommand([...this.compose, ...this.args, 'ps', '--services'], {}, 30_000);
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
        const down = await runCommand(
          [...this.compose, ...this.args, 'down', '-v', '--remove-orphans', '-t', '10'],
          {},
          DOWN_TIMEOUT_MS,
        );
        if (down.exitCode !== 0) throw new Error(`docker compose down of project ${this.project}: ${lastLines(down)}`);
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

/** The last lines a failed compose command said (its stderr, else its stdout). */
const lastLines = (run: CommandRun) => said(run).trim().split('\n').slice(-3).join(' | ').slice(-400);
