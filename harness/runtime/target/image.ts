// Gate a user's image: run it as it is (never built, retagged or changed),
// publish its port on 127.0.0.1, wait until it is ready the way the user
// says, and restart it with the user's command inside the container (docker
// exec, no shell assumed) or on the host. What is left afterwards is read
// with `docker top`, from the host, so an image without ps or a shell is
// probed all the same.
import type Docker from 'dockerode';
import { DeadlineError } from '../../deadline.js';
import { duration } from '../../format.js';
import { TargetError } from '../../errors.js';
import type { TlsSettings } from '../../load/tls.js';
import { checkCertificate } from '../certificate.js';
import { UNKNOWN_PID } from '../../load/response-check.js';
import { waitFor } from '../../wait.js';
import { splitCommand } from '../command-line.js';
import { execIn } from '../docker/exec.js';
import { demuxLogs, LABEL } from '../docker/engine.js';
import { containerNetCounters } from '../docker/container-net.js';
import { containerAddress, type Reach, reachFromHere } from '../docker/reach.js';
import { lastingZombies } from '../zombies.js';
import {
  limitedRestart,
  type Leftovers,
  RESTART_KILL_GRACE_MS,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  type Sight,
  type Started,
  USER_COMMAND,
} from '../runtime.js';
import { limitedRunOf, runHostCommand, said } from '../host-command.js';
import { describeReady, readyStrategy, type ReadySpec } from '../readiness.js';

/** What the gate sees of a user's image: the processes in the container (docker top), not what they are or how they end. */
export const IMAGE_SIGHT: Sight = {
  identities: true,
  versions: 'the gate does not start your versions',
  restartEvents: 'the gate cannot see when your processes exit',
  exitLines: 'the gate reads no exit lines from your server',
  processes: true,
  fds: "another process's fds are not visible from the host without privileges",
  kernelCounters: true,
};

export interface ImageRuntimeOptions {
  image: string;
  port: number;
  restart: string;
  restartOn: 'container' | 'host';
  ready: ReadySpec;
  readyTimeoutSeconds: number;
  restartTimeoutSeconds: number;
  env: string[];
  /** The container's command instead of the image's CMD; absent: the image's. */
  command?: string[];
  /** Bind mounts and named volumes, as docker run -v takes them. */
  volumes?: string[];
  /** An existing network to join instead of the engine's default. */
  network?: string;
  /** net.ipv4.tcp_migrate_req in the container's network namespace. */
  tcpMigrateReq: 0 | 1;
  keep: boolean;
  /** --identity none: responses say nothing of their process. */
  identityNone: boolean;
  /** --tls: the image serves HTTPS on its port. */
  tls?: TlsSettings | null;
}

export class ImageRuntime implements Runtime {
  readonly kind = 'image';
  description: string;
  readonly observes: Sight;
  readonly facts: Record<string, string> = {};
  protected container?: Docker.Container;
  private closed = false;
  protected readonly reach: Reach = reachFromHere();

  constructor(
    protected readonly docker: Docker,
    protected readonly options: ImageRuntimeOptions,
  ) {
    this.observes = { ...IMAGE_SIGHT, ...(options.identityNone ? { identities: '--identity none' } : {}) };
    const reached =
      this.reach === 'published'
        ? `port ${options.port} published on 127.0.0.1`
        : `port ${options.port} at the container's address (the gate runs in a container)`;
    this.description = `docker container from ${options.image} (your image, as it is; ${reached}, tcp_migrate_req=${options.tcpMigrateReq})`;
  }

  get containerId(): string | undefined {
    return this.container?.id;
  }

  async start(): Promise<Started> {
    const container = await this.makeContainer();
    this.container = container;
    return this.attach(container);
  }

  /** The container to gate: here, one of the image, run as the options say; a Compose runtime brings up its own. */
  protected async makeContainer(): Promise<Docker.Container> {
    await this.ensureImage();
    const port = `${this.options.port}/tcp`;
    const container = await this.docker.createContainer({
      Image: this.options.image,
      Labels: { [LABEL]: 'gate' },
      ExposedPorts: { [port]: {} },
      Env: this.options.env,
      ...(this.options.command ? { Cmd: this.options.command } : {}),
      HostConfig: {
        PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        ...(this.options.volumes?.length ? { Binds: this.options.volumes } : {}),
        ...(this.options.network ? { NetworkMode: this.options.network } : {}),
        Sysctls: { 'net.ipv4.tcp_migrate_req': String(this.options.tcpMigrateReq) },
        SecurityOpt: ['no-new-privileges'],
      },
    });
    this.container = container;
    await container.start();
    return container;
  }

  /** Waits until the container's server is ready, then hands the run its target, its restart and its probes. */
  protected async attach(container: Docker.Container): Promise<Started> {
    const port = `${this.options.port}/tcp`;
    const id = container.id.slice(0, 12);
    const info = await container.inspect();
    const hostPid = info.State.Pid;
    const target =
      this.reach === 'published' ? publishedTarget(info, port, id) : addressTarget(info, this.options.port, id);
    const ready = readyStrategy(
      this.options.ready,
      { ...target, tls: Boolean(this.options.tls) },
      {
        logs: () => logsOf(container),
        alive: () => running(container, this.options.image),
        health: async () => (await container.inspect()).State.Health?.Status ?? null,
      },
    );
    try {
      await waitFor(ready, { timeoutMs: this.options.readyTimeoutSeconds * 1000, intervalMs: 100 });
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      const tail = (await logsOf(container)).trim().split('\n').slice(-5).join(' | ');
      throw new TargetError(
        `${this.options.image} was not ready (--ready ${describeReady(this.options.ready)}) within ${duration(this.options.readyTimeoutSeconds * 1000)}: does it listen on port ${this.options.port}?${tail ? ` Its last output: ${tail.slice(-300)}` : ' It printed nothing.'}`,
      );
    }
    if (this.options.tls)
      await checkCertificate(target, this.options.tls, `${this.options.image} on port ${this.options.port}`);
    const processesAtStart = (await processesIn(container)).length;
    Object.assign(this.facts, {
      runtime: 'docker',
      image: this.options.image,
      container: id,
      port: String(this.options.port),
      tcp_migrate_req: String(this.options.tcpMigrateReq),
      restart: this.options.restart,
      'restart runs': `in the ${this.options.restartOn}`,
    });
    return {
      target: { ...target, pid: UNKNOWN_PID },
      restart: (request) => this.restart(container, request),
      leftovers: () => leftoversIn(container, processesAtStart),
      netCounters: () =>
        // The engine's PIDs are the host's; a gate in a container has its own.
        this.reach === 'container-address'
          ? "the gate runs in a container and cannot see the host's processes"
          : containerNetCounters(hostPid),
      // A user's server keeps its log its own way: the gate reads no exit lines.
      serverLog: async () => '',
    };
  }

  private async restart(container: Docker.Container, { index, version }: RestartRequest): Promise<RestartRecord> {
    const limitMs = this.options.restartTimeoutSeconds * 1000;
    return limitedRestart({ index, strategy: USER_COMMAND, version, limitMs }, async (limit) => {
      if (this.options.restartOn === 'host') {
        return limitedRunOf(
          await runHostCommand(this.options.restart, this.hostRestartEnv(container), limit, RESTART_KILL_GRACE_MS),
        );
      }
      try {
        const run = await execIn(container, splitCommand(this.options.restart), [], limit);
        return { stdout: run.stdout, stderr: said(run), exitCode: run.exitCode, endedAtLimit: null };
      } catch (error) {
        if (error instanceof DeadlineError)
          return {
            stdout: '',
            stderr: '',
            exitCode: 124,
            endedAtLimit: "docker exec cannot end it, the container's removal does",
          };
        // The engine refuses to start what is not there: a failed restart, with the engine's words.
        const message = (error as Error).message;
        if (/executable file not found|no such file or directory|exec failed/i.test(message))
          return { stdout: '', stderr: message, exitCode: 127, endedAtLimit: null };
        throw error;
      }
    });
  }

  /** What a restart on the host is told of its target. */
  protected hostRestartEnv(container: Docker.Container): Record<string, string> {
    return { CONTAINER: container.id };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.options.keep) return;
    await this.dispose();
  }

  /** Removes what start made. */
  protected async dispose(): Promise<void> {
    await this.container?.remove({ force: true });
  }

  private async ensureImage(): Promise<void> {
    try {
      await this.docker.getImage(this.options.image).inspect();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    try {
      const stream = await this.docker.pull(this.options.image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (error) {
      throw new TargetError(
        `image ${this.options.image} is not on this machine and cannot be pulled (${(error as Error).message.split('\n')[0]!.slice(0, 160)}); build or load it first, or check the name`,
      );
    }
  }
}

/** Zombies that stay unreaped and processes beyond those at start, from `docker top` (ps on the host). */
async function leftoversIn(container: Docker.Container, processesAtStart: number): Promise<Leftovers> {
  const processes = await processesIn(container);
  return {
    serverProcesses: processes.filter((p) => p.state !== 'Z').map(({ pid, state }) => ({ pid, state })),
    zombies: await lastingZombies(processes, () => processesIn(container)),
    firstServerFds: null,
    lastServerFds: null,
    processesAtStart,
  };
}

/** The container's output so far, stdout and stderr. */
async function logsOf(container: Docker.Container): Promise<string> {
  return demuxLogs(await container.logs({ stdout: true, stderr: true }));
}

/** Resolves while the container runs; a container that exited fails the start with its last words. */
async function running(container: Docker.Container, image: string): Promise<void> {
  const info = await container.inspect();
  if (!info.State.Running) {
    const tail = (await logsOf(container)).trim().split('\n').slice(-5).join(' | ');
    throw new TargetError(
      `container from ${image} exited with code ${info.State.ExitCode} at start${tail ? `; its last output: ${tail.slice(-300)}` : ''}`,
    );
  }
}

/** Every process of the container and its state letter, from `docker top` (ps on the host). */
async function processesIn(container: Docker.Container): Promise<{ pid: number; state: string }[]> {
  const top = (await container.top({ ps_args: '-o pid,stat' })) as { Titles: string[]; Processes: string[][] };
  const pid = top.Titles.indexOf('PID');
  const stat = top.Titles.indexOf('STAT');
  return top.Processes.map((row) => ({ pid: Number(row[pid]), state: (row[stat] ?? '?').slice(0, 1) }));
}

function publishedTarget(info: Docker.ContainerInspectInfo, port: string, id: string): { host: string; port: number } {
  const hostPort = Number(info.NetworkSettings.Ports[port]?.[0]?.HostPort);
  if (!hostPort) throw new TargetError(`container ${id} has no published port for ${port}`);
  return { host: '127.0.0.1', port: hostPort };
}

function addressTarget(info: Docker.ContainerInspectInfo, port: number, id: string): { host: string; port: number } {
  const host = containerAddress(info);
  if (!host)
    throw new TargetError(
      `container ${id} has no address on any network (REUSEPORT_LAB_REACH=container-address); run the gate on the engine's host instead`,
    );
  return { host, port };
}
