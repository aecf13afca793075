// TaskFollower against an engine stub: what it records of a task from the
// engine's task list and kill events, and what it leaves unrecorded.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { RECENT_MS, TaskFollower } from './tasks.js';

const since = Date.parse('2026-12-02T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A task as GET /tasks lists it. */
const engineTask = (id: string, slot: number, desired: string, state: string, stateAt: number, container: string) => ({
  ID: id,
  Slot: slot,
  CreatedAt: iso(stateAt - 20_000),
  DesiredState: desired,
  Spec: { ContainerSpec: { Image: 'app:1@sha256:0123' } },
  Status: {
    State: state,
    Timestamp: iso(stateAt),
    ContainerStatus: { ContainerID: `${container}0123456789abcdef`, ExitCode: 0 },
  },
});

/** An engine whose task list is `listed` and whose kill events are written to `events`. */
function engine(listed: () => unknown[]) {
  const events = new PassThrough();
  const docker = { listTasks: async () => listed(), getEvents: async () => events } as unknown as Docker;
  return { docker, events };
}

let follower: TaskFollower | undefined;
afterEach(async () => {
  await follower?.stop();
  follower = undefined;
});

describe('TaskFollower', () => {
  it('keeps a task that ended shortly before the run with its end only, and forgets an older one', async () => {
    const { docker } = engine(() => [
      engineTask('recent', 1, 'shutdown', 'shutdown', since - 3_000, 'aaaaaaaaaaaa'),
      engineTask('old', 2, 'shutdown', 'shutdown', since - RECENT_MS - 1_000, 'bbbbbbbbbbbb'),
      engineTask('live', 1, 'running', 'running', since - 1_000, 'cccccccccccc'),
    ]);
    follower = new TaskFollower(docker, 'shop_web', 10);
    await follower.start(since);
    const byId = Object.fromEntries(follower.records().map((t) => [t.id, t]));
    expect(Object.keys(byId).sort()).toEqual(['live', 'recent']);
    // Its stop was not seen: when it left the DNS is not made up from the poll's time.
    expect(byId.recent).toMatchObject({
      container: 'aaaaaaaaaaaa',
      image: 'app:1',
      state: 'shutdown',
      endedAt: since - 3_000,
      stoppingAt: null,
      signalledAt: null,
      runningAt: null,
    });
    expect(byId.live).toMatchObject({ runningAt: since - 1_000, stoppingAt: null, endedAt: null });
  });

  it('records a running task the swarm wants gone as stopping, its kill event as its signal, and its end', async () => {
    let state = { desired: 'running', state: 'running', at: since + 100 };
    const { docker, events } = engine(() => [
      engineTask('t1', 1, state.desired, state.state, state.at, 'aaaaaaaaaaaa'),
    ]);
    const tasks = new TaskFollower(docker, 'shop_web', 10);
    follower = tasks;
    await tasks.start(since);
    const only = () => tasks.records()[0]!;
    state = { desired: 'shutdown', state: 'running', at: since + 100 };
    await expect.poll(() => tasks.stopping().map((t) => t.id)).toEqual(['t1']);
    const stoppingAt = only().stoppingAt!;
    events.write(`${JSON.stringify({ id: 'aaaaaaaaaaaa0123456789abcdef', timeNano: (since + 3_000) * 1e6 })}\n`);
    await expect.poll(() => only().signalledAt).toBe(since + 3_000);
    state = { desired: 'shutdown', state: 'shutdown', at: since + 4_000 };
    await expect.poll(() => only().endedAt).toBe(since + 4_000);
    expect(only()).toMatchObject({ stoppingAt, exitCode: 0, state: 'shutdown' });
    expect(tasks.stopping()).toEqual([]);
  });
});
