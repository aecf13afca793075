// A swarm service's tasks over a run, as the engine tells them: when each
// was created, ran, was told to stop, was sent its stop signal and ended.
// Tasks are polled (the engine's event stream says nothing of a task's
// desired state), often enough to place a task's stop within a bucket of
// the report; the stop signal comes from the containers' event stream.
import type Docker from 'dockerode';
import type { TaskRecord } from '../../runtime.js';

/** The fields of the engine's task object read here (GET /tasks). */
interface EngineTask {
  ID: string;
  Slot?: number;
  CreatedAt?: string;
  DesiredState?: string;
  Spec?: { ContainerSpec?: { Image?: string } };
  Status?: {
    State?: string;
    Timestamp?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

const ENDED = new Set(['shutdown', 'complete', 'failed', 'rejected', 'orphaned', 'remove']);
/** A task that ended this long before the run is still recorded (HAProxy holds a DNS answer 10 s by default). */
export const RECENT_MS = 15_000;

/** Desired states of a task the swarm wants gone. */
const STOPPING = new Set(['shutdown', 'remove', 'orphaned']);

/** Follows the tasks of one service from start() until stop(). */
export class TaskFollower {
  private readonly tasks = new Map<string, TaskRecord>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private error: string | null = null;
  /** Stop signals by container short ID, from the event stream (a container may be signalled before a poll names it). */
  private readonly signalled = new Map<string, number>();
  private events?: NodeJS.ReadableStream & { destroy?: () => void };

  constructor(
    private readonly docker: Docker,
    private readonly service: string,
    private readonly intervalMs = 200,
  ) {}

  /**
   * Polls once, then every interval. Tasks that ended well before `since`
   * are history; those that ended within RECENT_MS of it are kept: a load
   * balancer may still send to them during the warm-up.
   */
  async start(since = Date.now()): Promise<void> {
    await this.followSignals(since);
    await this.poll(since);
    const tick = () => {
      this.polling = this.poll(since).finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    this.events?.destroy?.();
  }

  /** Containers' kill events (docker stop sends the stop signal through one) from `since` on. */
  private async followSignals(since: number): Promise<void> {
    try {
      this.events = (await this.docker.getEvents({
        since: Math.floor(since / 1000),
        filters: { type: ['container'], event: ['kill'] },
      })) as typeof this.events;
    } catch (error) {
      this.error ??= `the containers' events could not be followed: ${(error as Error).message.split('\n')[0]}`;
      return;
    }
    let rest = '';
    this.events!.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        try {
          const event = JSON.parse(line) as { id?: string; timeNano?: number };
          const id = String(event.id ?? '').slice(0, 12);
          if (id && event.timeNano && !this.signalled.has(id)) this.signalled.set(id, Math.round(event.timeNano / 1e6));
        } catch {
          // A partial line: the next chunk completes it.
        }
      }
      for (const record of this.tasks.values())
        if (record.container && record.signalledAt === null)
          record.signalledAt = this.signalled.get(record.container) ?? null;
    });
    this.events!.on('error', () => {});
  }

  /** The tasks so far, oldest first. */
  records(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  get failure(): string | null {
    return this.error;
  }

  /** Tasks still running while the swarm wants them gone: an update's old replicas, draining. */
  stopping(): TaskRecord[] {
    return this.records().filter((t) => t.stoppingAt !== null && t.endedAt === null);
  }

  private async poll(since: number): Promise<void> {
    let listed: EngineTask[];
    try {
      listed = (await this.docker.listTasks({ filters: { service: [this.service] } })) as EngineTask[];
    } catch (error) {
      this.error ??= `the service's tasks could not be listed: ${(error as Error).message.split('\n')[0]}`;
      return;
    }
    const now = Date.now();
    for (const task of listed) {
      const status = task.Status ?? {};
      const state = String(status.State ?? 'unknown');
      const stateAt = Date.parse(String(status.Timestamp ?? '')) || now;
      let record = this.tasks.get(String(task.ID));
      if (!record) {
        if (ENDED.has(state) && stateAt < since - RECENT_MS) continue;
        record = {
          id: String(task.ID),
          slot: typeof task.Slot === 'number' ? task.Slot : null,
          container: null,
          image: String(task.Spec?.ContainerSpec?.Image ?? '').replace(/@sha256:.*$/, ''),
          createdAt: Date.parse(String(task.CreatedAt ?? '')) || now,
          runningAt: null,
          stoppingAt: null,
          signalledAt: null,
          endedAt: null,
          state,
          exitCode: null,
          error: null,
        };
        this.tasks.set(record.id, record);
      }
      const containerId = status.ContainerStatus?.ContainerID;
      if (containerId) record.container = String(containerId).slice(0, 12);
      if (record.container && record.signalledAt === null)
        record.signalledAt = this.signalled.get(record.container) ?? null;
      record.state = state;
      if (state === 'running' && record.runningAt === null) record.runningAt = stateAt;
      // Not "not running": a stop-first update's new task waits in desired state ready until the old one is gone.
      // A task seen only once it had ended (before the run, or between two polls) left the DNS at a time not seen: none is made up.
      if (
        STOPPING.has(String(task.DesiredState)) &&
        record.stoppingAt === null &&
        record.endedAt === null &&
        !ENDED.has(state)
      )
        record.stoppingAt = now;
      if (ENDED.has(state) && record.endedAt === null) {
        record.endedAt = stateAt;
        const code = status.ContainerStatus?.ExitCode;
        record.exitCode = typeof code === 'number' ? code : null;
        if (status.Err) record.error = String(status.Err);
      }
    }
  }
}
