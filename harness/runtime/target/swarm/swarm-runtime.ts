// Gate a replicated swarm service while the user's update runs: load it
// through its published port (or the load balancer in front of it), run the
// update command on the host, and follow the service's tasks from the engine
// so each replica's answers, start and end are on one time axis. The gate
// starts and stops nothing of the service: what it sees is the engine's
// account of the tasks and the answers, which name their replica.
import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { DeadlineError } from '../../../deadline.js';
import { duration } from '../../../format.js';
import { TargetError } from '../../../errors.js';
import { UNKNOWN_PID } from '../../../load/response-check.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../wait.js';
import { limitedRunOf, runHostCommand, said } from '../../host-command.js';
import { describeReady, readyStrategy, type ReadySpec } from '../../readiness.js';
import {
  limitedRestart,
  RESTART_KILL_GRACE_MS,
  type FleetRecord,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  type Sight,
  type Started,
  USER_COMMAND,
} from '../../runtime.js';
import { TaskFollower } from './tasks.js';

const SWARMS = 'the swarm runs the replicas: the gate follows their tasks, not their processes';

/** What the gate sees of a swarm service: the answers, each naming its replica, and the engine's tasks. */
export const SWARM_SIGHT: Sight = {
  identities: true,
  versions: 'the gate does not start your versions',
  restartEvents: "the swarm does not report each process's steps; the service's tasks are followed instead",
  exitLines: 'the gate reads no exit lines from your replicas',
  processes: SWARMS,
  fds: SWARMS,
  kernelCounters: 'each replica has a network namespace of its own',
};

export interface SwarmRuntimeOptions {
  service: string;
  /** The load balancer in front of the service; absent: the service's own published port. */
  url?: URL;
  restart: string;
  ready: ReadySpec;
  readyTimeoutSeconds: number;
  restartTimeoutSeconds: number;
  identityNone: boolean;
}

/** The fields of the engine's service object read here (GET /services/NAME). */
interface EngineService {
  Spec?: {
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate?: { ContainerSpec?: { Image?: string; StopGracePeriod?: number } };
    EndpointSpec?: { Mode?: string };
    UpdateConfig?: { Order?: string };
  };
  Endpoint?: { Ports?: { TargetPort?: number; PublishedPort?: number; PublishMode?: string }[] };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string };
}

/** How long after the update command an update of the service may take to show. */
const UPDATE_APPEARS_MS = 2_000;

/** The update states after which a service is still changing. */
const UPDATING = new Set(['updating', 'rollback_started']);

export class SwarmRuntime implements Runtime {
  readonly kind = 'swarm';
  readonly description: string;
  readonly observes: Sight;
  readonly facts: Record<string, string> = {};
  private readonly tasks: TaskFollower;
  private readonly updates: FleetRecord['updates'] = [];
  private replicas: number | null = null;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: SwarmRuntimeOptions,
  ) {
    this.observes = { ...SWARM_SIGHT, ...(options.identityNone ? { identities: '--identity none' } : {}) };
    this.tasks = new TaskFollower(docker, options.service);
    this.description = `swarm service ${options.service}${options.url ? ` behind ${options.url.origin}` : ''} (updated on the host with: ${options.restart})`;
  }

  async start(): Promise<Started> {
    const service = await inspectService(this.docker, this.options.service);
    this.replicas = service.Spec?.Mode?.Replicated?.Replicas ?? null;
    const target = this.options.url ? urlTarget(this.options.url) : publishedTarget(service, this.options.service);
    try {
      await waitFor(readyStrategy(this.options.ready, { ...target, tls: false }), {
        timeoutMs: this.options.readyTimeoutSeconds * 1000,
        intervalMs: 100,
      });
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      throw new TargetError(
        `swarm service ${this.options.service} at http://${target.host}:${target.port} was not ready (--ready ${describeReady(this.options.ready)}) within ${duration(this.options.readyTimeoutSeconds * 1000)}; is it running (docker service ps ${this.options.service})?`,
      );
    }
    await this.tasks.start();
    // An update still under way would be measured as the warm-up: wait for it, and for its old tasks to end.
    if ((await this.settle(Date.now() + this.options.readyTimeoutSeconds * 1000)) === 'timeout') {
      throw new TargetError(
        `swarm service ${this.options.service} had not settled after ${duration(this.options.readyTimeoutSeconds * 1000)} (--ready-timeout): ${await this.unsettled()}; wait for docker service ps ${this.options.service} to settle`,
      );
    }
    const spec = service.Spec ?? {};
    Object.assign(this.facts, {
      runtime: 'swarm',
      service: this.options.service,
      replicas: String(this.replicas ?? 'global'),
      image: String(spec.TaskTemplate?.ContainerSpec?.Image ?? '?').replace(/@sha256:.*$/, ''),
      'endpoint mode': String(spec.EndpointSpec?.Mode ?? 'vip'),
      'update order': String(spec.UpdateConfig?.Order ?? 'stop-first'),
      'stop grace': spec.TaskTemplate?.ContainerSpec?.StopGracePeriod
        ? duration(spec.TaskTemplate.ContainerSpec.StopGracePeriod / 1e6)
        : '10 s (the default)',
      target: `http://${target.host}:${target.port}`,
      restart: this.options.restart,
      'restart runs': 'on the host',
    });
    return {
      target: { ...target, pid: UNKNOWN_PID },
      restart: (request) => this.restart(request),
      leftovers: async () => null,
      netCounters: () => SWARM_SIGHT.kernelCounters as string,
      serverLog: async () => '',
      fleet: () => this.fleet(),
    };
  }

  /** Runs the update command, then waits for the service to settle: the update over and every replaced task ended. */
  private async restart({ index, version }: RestartRequest): Promise<RestartRecord> {
    const limitMs = this.options.restartTimeoutSeconds * 1000;
    return limitedRestart({ index, strategy: USER_COMMAND, version, limitMs }, async (limit, triggeredAt) => {
      const run = await runHostCommand(
        this.options.restart,
        { SERVICE: this.options.service },
        limit,
        RESTART_KILL_GRACE_MS,
      );
      if (run.timedOut) return limitedRunOf(run);
      const settled = await this.settle(triggeredAt + limit, triggeredAt, Date.now() + UPDATE_APPEARS_MS);
      if (settled === 'timeout') return { ...limitedRunOf(run), endedAtLimit: await this.unsettled() };
      this.updates.push({ restart: index, ...settled });
      const rolledBack = settled.state.startsWith('rollback') || settled.state === 'paused';
      const messages = [
        said(run),
        rolledBack ? `the update ended ${settled.state}${settled.message ? `: ${settled.message}` : ''}` : '',
      ]
        .filter(Boolean)
        .join('\n');
      return {
        stdout: run.stdout,
        stderr: messages,
        exitCode: run.exitCode === 0 && rolledBack ? 1 : run.exitCode,
        endedAtLimit: null,
      };
    });
  }

  private fleet(): FleetRecord {
    return {
      orchestrator: 'swarm',
      service: this.options.service,
      replicas: this.replicas,
      tasks: this.tasks.records(),
      updates: [...this.updates],
      error: this.tasks.failure,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tasks.stop();
  }

  /** Why the service has not settled, in one line: its update's state and the tasks in the way. */
  private async unsettled(): Promise<string> {
    const update = (await inspectService(this.docker, this.options.service)).UpdateStatus;
    const pending = this.tasks
      .records()
      .filter((t) => t.endedAt === null && (t.stoppingAt !== null || t.state !== 'running'));
    const tasks = pending.map(
      (t) =>
        `task ${t.slot ?? '?'} (${t.container ?? t.id.slice(0, 12)}) ${t.stoppingAt !== null ? 'still stopping' : t.state}`,
    );
    return [
      `the update is ${update?.State ?? 'not reported'}${update?.Message ? ` (${update.Message})` : ''}`,
      ...tasks,
    ].join('; ');
  }

  /**
   * `since`: an update that started before it is an earlier one, whose ending
   * says nothing of this restart; until `waitForOneUntil` such a state is
   * waited out (a detached `docker service update -d` returns before the
   * swarm has begun).
   */
  private async settle(
    deadline: number,
    since = 0,
    waitForOneUntil = 0,
  ): Promise<{ state: string; message: string } | 'timeout'> {
    for (;;) {
      const service = await inspectService(this.docker, this.options.service);
      const update = service.UpdateStatus;
      if (!UPDATING.has(String(update?.State)) && this.tasks.stopping().length === 0) {
        const ours = update?.State !== undefined && Date.parse(update.StartedAt ?? '') >= since - 1000;
        if (ours || Date.now() >= waitForOneUntil)
          return ours
            ? { state: String(update.State), message: String(update.Message ?? '') }
            : { state: 'none', message: 'no update started' };
      }
      if (Date.now() > deadline) return 'timeout';
      await sleep(250);
    }
  }
}

/** The service, or a one-line SetupError: swarm mode off, or no such service. */
export async function inspectService(docker: Docker, name: string): Promise<EngineService> {
  try {
    return (await docker.getService(name).inspect()) as EngineService;
  } catch (error) {
    const { statusCode, message } = error as { statusCode?: number; message: string };
    if (statusCode === 503 || /not a swarm manager|swarm mode/i.test(message)) {
      throw new TargetError(
        `--swarm-service ${name}: this Docker engine is not a swarm manager (swarm mode is not active); run docker swarm init, or scripts/swarm/fleet.sh up`,
      );
    }
    if (statusCode === 404)
      throw new TargetError(`--swarm-service ${name}: no such service on this engine; docker service ls lists them`);
    throw error;
  }
}

function urlTarget(url: URL): { host: string; port: number } {
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

/** The service's own published port, where it can be reached from this machine. */
function publishedTarget(service: EngineService, name: string): { host: string; port: number } {
  const ports = (service.Endpoint?.Ports ?? []).filter((p) => p.PublishedPort);
  const port = ports[0];
  if (!port) {
    throw new TargetError(
      `--swarm-service ${name} publishes no port; publish one (docker service update --publish-add mode=host,target=PORT,published=PORT ${name}), or give the load balancer in front of it with --url`,
    );
  }
  // The routing mesh is IPVS in the ingress network's namespace: without the module, the published port refuses every connection.
  if (port.PublishMode !== 'host' && !existsSync('/sys/module/ip_vs')) {
    throw new TargetError(
      `--swarm-service ${name} publishes port ${port.PublishedPort} through the ingress routing mesh, which needs IPVS, and this kernel has none (no /sys/module/ip_vs); publish it with mode=host, or put a load balancer in front and give its --url`,
    );
  }
  return { host: '127.0.0.1', port: port.PublishedPort! };
}
