// Docker runtime: a container from the image the strategy needs, and every
// restart is the strategy's command run inside it through exec. In the
// plain image the entrypoint starts the first server; with systemd as PID 1
// the strategy's cold start does.
import type Docker from 'dockerode';
import { DeadlineError } from '../../deadline.js';
import { TargetError } from '../../errors.js';
import { waitFor, type WaitStrategy } from '../../wait.js';
import {
  type ImageVariant,
  type RestartSettings,
  type RestartStrategy,
  restartCommandOf,
} from '../../strategies/strategy.js';
import {
  limitedRestart,
  type Leftovers,
  mergeEnv,
  SEES_ALL,
  type Sight,
  RESTART_KILL_GRACE_MS,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  type Started,
} from '../runtime.js';
import { demuxLogs, LABEL } from '../docker/engine.js';
import { execIn } from '../docker/exec.js';
import { containerNetCounters } from '../docker/container-net.js';
import { lastingZombies, type ScannedProcess } from '../zombies.js';

/** Where the image keeps the scripts and listens. */
const APP_SCRIPTS = '/app/scripts';
const CONTAINER_PORT = '8080/tcp';
const HEALTHY_TIMEOUT_MS = 60_000;
/** Where the systemd units read settings shared by every server (systemd/*.service). */
const SYSTEMD_SERVER_ENV = '/etc/reuseport-lab/server.env';
/** How long past the in-container limit the exec itself may take before the harness gives up on it. */
const EXEC_SLACK_MS = 15_000;
/** coreutils timeout(1)'s exit code when it ended the command. */
const TIMEOUT_EXIT_CODES = [124, 137];

/** The tag of a strategy's image: the systemd target is `<tag>-systemd` beside the plain image's `<tag>`. */
export function imageFor(image: string, target: ImageVariant): string {
  if (target === 'runtime') return image;
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? `${image}-systemd` : `${image}:latest-systemd`;
}

/**
 * How a container of each image runs. The plain image: docker-init, every
 * capability dropped. systemd as PID 1 (no --privileged): the host's cgroup
 * tree writable and tmpfs on /run, with Docker's default capabilities, which
 * systemd needs to set up the services' sandboxes (docs/security.md).
 */
function hostConfigFor(target: ImageVariant): Docker.HostConfig {
  const common: Docker.HostConfig = {
    PortBindings: { [CONTAINER_PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    // Per network namespace: the host's own setting is untouched.
    Sysctls: { 'net.ipv4.tcp_migrate_req': '1' },
  };
  if (target === 'runtime') return { ...common, Init: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] };
  // (CgroupnsMode is in the engine's API since 1.41, not yet in @types/dockerode.)
  const systemd: Docker.HostConfig & { CgroupnsMode: 'host' } = {
    ...common,
    CgroupnsMode: 'host',
    Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    Tmpfs: { '/run': '', '/run/lock': '' },
  };
  return systemd;
}

export interface ContainerOptions {
  /** The plain image's tag; a strategy that needs systemd runs imageFor(image, 'systemd'). */
  image: string;
  strategy: RestartStrategy;
  settings: RestartSettings;
  /** Time limit of one restart. */
  restartTimeoutSeconds: number;
  /** Leave the container running at the end. */
  keep: boolean;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker';
  readonly description: string;
  /** Our servers in a container of our own: everything. */
  readonly observes: Sight = SEES_ALL;
  readonly facts: Record<string, string> = {};
  private container?: Docker.Container;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: ContainerOptions,
  ) {
    this.image = imageFor(options.image, options.strategy.image);
    this.description =
      options.strategy.image === 'systemd'
        ? `docker container from ${this.image} (systemd as PID 1, tcp_migrate_req=1, port published on 127.0.0.1)`
        : `docker container from ${this.image} (docker-init, tcp_migrate_req=1, port published on 127.0.0.1)`;
  }

  private readonly image: string;

  /** The container's id, once started. */
  get containerId(): string | undefined {
    return this.container?.id;
  }

  async start(serverEnv: string[] = []): Promise<Started> {
    const systemd = this.options.strategy.image === 'systemd';
    const container = await this.docker
      .createContainer({
        Image: this.image,
        Labels: { [LABEL]: 'poc' },
        ExposedPorts: { [CONTAINER_PORT]: {} },
        // Under systemd the units do not see the container's environment: serverEnv goes to their EnvironmentFile.
        Env: systemd
          ? []
          : [
              'APP_VERSION=v1',
              // The entrypoint's cold start waits this long for the first server.
              `READY_TIMEOUT=${this.options.settings.readyTimeoutSeconds}`,
              ...serverEnv,
            ],
        HostConfig: hostConfigFor(this.options.strategy.image),
      })
      .catch((error: { statusCode?: number }) => {
        // --skip-build on a machine that never built it: the engine says 404, docker-modem a stack.
        if (error.statusCode === 404)
          throw new TargetError(`image ${this.image} is not on this machine; drop --skip-build, and poc builds it`);
        throw error;
      });
    this.container = container;
    await container.start();
    const info = systemd ? await this.coldStartUnderSystemd(container, serverEnv) : await waitHealthy(container);
    // The container's init process, as the host sees it: its /proc/PID/net is the container's namespace.
    const hostPid = info.State.Pid;
    const binding = info.NetworkSettings.Ports[CONTAINER_PORT]?.[0];
    if (!binding)
      throw new TargetError(`container ${container.id.slice(0, 12)} has no published port for ${CONTAINER_PORT}`);

    const probe = await execIn(container, [
      'sh',
      '-c',
      `pid=$(${this.options.strategy.servingPidProbe}); echo "$pid"; node --version; uname -r; cat /proc/sys/net/ipv4/tcp_migrate_req; ls "/proc/$pid/fd" | wc -l`,
    ]);
    const [pid, node, kernel, migrate, fds] = probe.stdout.trim().split('\n');
    const firstServerFds = Number(fds);
    Object.assign(this.facts, {
      runtime: 'docker',
      image: this.image,
      container: container.id.slice(0, 12),
      node: node ?? 'unknown',
      kernel: kernel ?? 'unknown',
      tcp_migrate_req: migrate ?? 'unknown',
    });
    return {
      target: { host: '127.0.0.1', port: Number(binding.HostPort), pid: Number(pid) },
      restart: (request) => this.restart(container, request),
      leftovers: () => this.leftovers(container, firstServerFds),
      netCounters: () => containerNetCounters(hostPid),
      serverLog: () => this.serverLog(container),
    };
  }

  private async restart(
    container: Docker.Container,
    { index, version, tweak, timeoutSeconds }: RestartRequest,
  ): Promise<RestartRecord> {
    const strategy = this.options.strategy;
    const { argv, env } = restartCommandOf(strategy, APP_SCRIPTS, this.options.settings, tweak);
    const limitMs = (timeoutSeconds ?? this.options.restartTimeoutSeconds) * 1000;
    return limitedRestart({ index, strategy: strategy.name, version, limitMs }, async (limit, triggeredAt) => {
      // coreutils timeout(1) in the container: SIGTERM at the limit (restart.sh
      // then rolls back or completes, by its contract), SIGKILL after the grace.
      const command = ['timeout', '-k', `${RESTART_KILL_GRACE_MS / 1000}`, `${limit / 1000}`, ...argv];
      try {
        const { stdout, stderr, exitCode } = await execIn(
          container,
          command,
          mergeEnv([`APP_VERSION=${version}`], env),
          limit + RESTART_KILL_GRACE_MS + EXEC_SLACK_MS,
        );
        const ended = TIMEOUT_EXIT_CODES.includes(exitCode) && Date.now() - triggeredAt >= limit;
        return { stdout, stderr, exitCode, endedAtLimit: ended ? `timeout(1) ended it (exit ${exitCode})` : null };
      } catch (error) {
        if (!(error instanceof DeadlineError)) throw error;
        return { stdout: '', stderr: '', exitCode: 124, endedAtLimit: 'docker exec did not return' };
      }
    });
  }

  /** Reads /proc in the container: every process's state, and the last server's open fds. */
  private async leftovers(container: Docker.Container, firstServerFds: number): Promise<Leftovers> {
    const { processes, lastServerFds } = await this.scanProcesses(container);
    if (!Number.isInteger(firstServerFds)) throw new Error("the first server's fds were never counted");
    return {
      serverProcesses: processes
        .filter((p) => p.cmdline.includes('dist/server/main.js'))
        .map(({ pid, state }) => ({ pid, state })),
      zombies: await lastingZombies(processes, async () => (await this.scanProcesses(container)).processes),
      firstServerFds,
      lastServerFds,
    };
  }

  private async scanProcesses(container: Docker.Container): Promise<{
    processes: (ScannedProcess & { cmdline: string })[];
    lastServerFds: number;
  }> {
    // stat for the state letter and start time, cmdline to tell servers from the health check's own node.
    const script = `for d in /proc/[0-9]*; do s=$(cat "$d/stat" 2>/dev/null) || continue; echo "$s|$(tr "\\0" " " <"$d/cmdline" 2>/dev/null)"; done; pid=$(${this.options.strategy.servingPidProbe}); echo "fds $(ls "/proc/$pid/fd" | wc -l)"`;
    const { stdout, stderr, exitCode } = await execIn(container, ['sh', '-c', script]);
    const lastServerFds = Number(/fds (\d+)/.exec(stdout)?.[1] ?? NaN);
    if (exitCode !== 0 || !Number.isInteger(lastServerFds)) {
      throw new Error(
        `reading /proc in the container gave no fd count (exit ${exitCode}): ${stderr.trim().slice(0, 200)}`,
      );
    }
    const processes = stdout
      .split('\n')
      .map((line) => /^(\d+) \(.*\) (\S) ([^|]*)\|(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      // After the state come 18 fields, then the start time (field 22 of proc(5)).
      .map((m) => ({ pid: Number(m[1]), state: m[2]!, start: m[3]!.split(' ')[18], cmdline: m[4]! }));
    return { processes, lastServerFds };
  }

  private async serverLog(container: Docker.Container): Promise<string> {
    const { stdout, stderr, exitCode } = await execIn(container, ['sh', '-c', this.options.strategy.serverLogProbe]);
    if (exitCode !== 0) throw new Error(`reading the servers' log exited ${exitCode}: ${stderr.trim()}`);
    return stdout;
  }

  async close(): Promise<void> {
    if (this.closed || !this.container) return;
    this.closed = true;
    if (this.options.keep) return;
    await this.container.remove({ force: true });
  }

  /**
   * systemd as PID 1: waits until it has booted, hands it the servers'
   * shared environment, then runs the strategy's cold start (which starts
   * its units) and requires it to succeed.
   */
  private async coldStartUnderSystemd(
    container: Docker.Container,
    serverEnv: string[],
  ): Promise<Docker.ContainerInspectInfo> {
    const id = container.id.slice(0, 12);
    const booted: WaitStrategy<true> = {
      what: `systemd in container ${id} booted`,
      probe: async () => {
        const info = await container.inspect();
        if (!info.State.Running)
          throw new TargetError(
            `container ${id} exited with code ${info.State.ExitCode} while systemd booted; see docker logs ${id}`,
          );
        const state = (await execIn(container, ['systemctl', 'is-system-running'])).stdout.trim();
        return state === 'running' || state === 'degraded' ? true : undefined;
      },
    };
    try {
      await waitFor(booted, { timeoutMs: HEALTHY_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof DeadlineError) throw new TargetError(`${error.message}; see docker logs ${id}`);
      throw error;
    }
    const write = await execIn(container, [
      'sh',
      '-c',
      `mkdir -p "\${1%/*}" && f=$1 && shift && printf '%s\\n' "$@" >"$f"`,
      'sh',
      SYSTEMD_SERVER_ENV,
      ...serverEnv,
    ]);
    if (write.exitCode !== 0)
      throw new TargetError(`cannot write ${SYSTEMD_SERVER_ENV} in container ${id}: ${write.stderr.trim()}`);
    const { argv, env } = this.options.strategy.coldStartCommand(APP_SCRIPTS, this.options.settings);
    const cold = await execIn(container, argv, ['APP_VERSION=v1', ...env], HEALTHY_TIMEOUT_MS);
    if (cold.exitCode !== 0) {
      throw new TargetError(
        `the first server did not start under systemd (${argv[0]} exited ${cold.exitCode}): ${cold.stderr.trim().slice(-300)}`,
      );
    }
    return container.inspect();
  }
}

/** Waits for the image's HEALTHCHECK; a container that stops meanwhile fails at once, with its last output. */
async function waitHealthy(container: Docker.Container): Promise<Docker.ContainerInspectInfo> {
  const id = container.id.slice(0, 12);
  const healthy: WaitStrategy<Docker.ContainerInspectInfo> = {
    what: `container ${id} healthy`,
    probe: async () => {
      const info = await container.inspect();
      if (!info.State.Running) {
        const logs = demuxLogs(await container.logs({ stdout: true, stderr: true, tail: 20 }));
        throw new TargetError(
          `container ${id} exited with code ${info.State.ExitCode} at start; its last output:\n${logs}`,
        );
      }
      return info.State.Health?.Status === 'healthy' ? info : undefined;
    },
  };
  try {
    return await waitFor(healthy, { timeoutMs: HEALTHY_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof DeadlineError) throw new TargetError(`${error.message}; see docker logs ${id}`);
    throw error;
  }
}
