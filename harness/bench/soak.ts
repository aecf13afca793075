// Soak: hundreds of restarts under load in one `npm run poc` run, watched
// from outside for what would leak: the open fds of the server processes
// (/proc on the host, their PIDs from docker top), the container's process
// count, and the memory of the harness process driving the load: its RSS,
// and its live heap after each full garbage collection (--trace-gc), which
// is what a leak would raise (RSS also holds what V8 has not returned yet).
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { type ChildRunner, didNotRun } from '../child-run.js';
import { spread, type Spread } from '../compare/rows.js';
import { SetupError } from '../errors.js';
import { connect, LABEL } from '../runtime/docker/engine.js';
import { readResultDocument, type ResultDocument } from '../result/document.js';
import { rssKiB } from './measure.js';

export interface SoakSample {
  /** ms since the epoch. */
  at: number;
  /** Restarts triggered by then (filled in from result.json). */
  restarts: number;
  harnessRssMiB: number;
  containerProcesses: number;
  serverProcesses: number;
  /** Open fds summed over the server processes; null when /proc would not tell (not root). */
  serverFds: number | null;
}

/** The harness's heap right after one full garbage collection. */
export interface HeapAfterGc {
  at: number;
  restarts: number;
  heapMiB: number;
}

export interface SoakSeries {
  name: string;
  /** Median of the first and of the last tenth of the samples taken under restarts, and the largest. */
  firstTenth: Spread | null;
  lastTenth: Spread | null;
  max: number;
}

export interface SoakResult {
  samples: SoakSample[];
  heapAfterGc: HeapAfterGc[];
  series: SoakSeries[];
  doc: ResultDocument;
  code: number;
  seconds: number;
}

export interface SoakOptions {
  /** dist/harness/cli.js: the soak is one `poc` run. */
  cli: string;
  cwd: string;
  restarts: number;
  intervalSeconds: number;
  /** Old servers steer before closing (drain line 2), or not: `--steer off`, the control. */
  steer: boolean;
  reportDir: string;
  sampleEveryMs?: number;
  onProgress?: (line: string) => void;
}

type Top = { Titles: string[]; Processes: string[][] };

/** The poc container this run made: labelled by the harness, created after the run began. */
async function findContainer(docker: Docker, since: number): Promise<Docker.Container | undefined> {
  const listed = await docker.listContainers({ filters: { label: [`${LABEL}=poc`] } });
  const ours = listed.filter((c) => c.Created * 1000 >= since - 1000).sort((a, b) => b.Created - a.Created)[0];
  return ours && docker.getContainer(ours.Id);
}

function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') return null;
    return 0; // gone between docker top and here: it holds nothing now
  }
}

async function sample(container: Docker.Container, harnessPid: number): Promise<Omit<SoakSample, 'restarts'>> {
  const top = (await container.top({ ps_args: '-o pid,args' })) as Top;
  const args = top.Titles.findIndex((t) => t === 'COMMAND' || t === 'ARGS');
  const servers = top.Processes.filter((p) => p[args]?.includes('dist/server/main.js')).map((p) => Number(p[0]));
  const fds = servers.map(openFds);
  return {
    at: Date.now(),
    harnessRssMiB: rssKiB(harnessPid) / 1024,
    containerProcesses: top.Processes.length,
    serverProcesses: servers.length,
    serverFds: fds.includes(null) ? null : fds.reduce<number>((sum, n) => sum + (n ?? 0), 0),
  };
}

/** First tenth against last tenth: a leak shows as a last tenth above the first, not as one high sample. */
export function series(name: string, values: number[]): SoakSeries {
  const tenth = Math.max(1, Math.floor(values.length / 10));
  return {
    name,
    firstTenth: spread(values.slice(0, tenth)),
    lastTenth: spread(values.slice(-tenth)),
    max: Math.max(...values),
  };
}

/** `--trace-gc` lines of full collections: ms since the isolate started, and the heap after it (V8's "MB" is 2^20 bytes). */
const MARK_COMPACT = /\s([\d.]+) ms: Mark-Compact\b[^\n]*?([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/g;

export function parseMarkCompacts(trace: string, startedAt: number): { at: number; heapMiB: number }[] {
  return [...trace.matchAll(MARK_COMPACT)].map((m) => ({ at: startedAt + Number(m[1]), heapMiB: Number(m[3]) }));
}

/** One poc run of `restarts` restarts, sampled every `sampleEveryMs` while its container lives. */
export async function soak(runner: ChildRunner, options: SoakOptions): Promise<SoakResult> {
  const docker = connect();
  const every = options.sampleEveryMs ?? 2000;
  const startedAt = Date.now();
  const samples: Omit<SoakSample, 'restarts'>[] = [];
  let harnessPid = 0;
  let harnessStartedAt = 0;
  let trace = '';
  let partialLine = '';
  let running = true;
  let lastError: unknown;
  const sampling = (async () => {
    let container: Docker.Container | undefined;
    while (running) {
      await sleep(every);
      if (!running || !harnessPid) continue;
      try {
        container ??= await findContainer(docker, startedAt);
        if (!container) continue;
        samples.push(await sample(container, harnessPid));
        // About once a minute, and only on a new sample: a failing probe must not repeat the line.
        if (samples.length % 30 === 1)
          options.onProgress?.(`soak: ${Math.round((Date.now() - startedAt) / 1000)} s, ${samples.length} samples`);
      } catch (error) {
        lastError = error; // the run is ending (container or harness gone): the samples so far stand
      }
    }
  })();
  // Full speed: the soak counts what hundreds of restarts lose under the most load the machine takes.
  const args = [
    'poc',
    '--runtime',
    'docker',
    '--load-model',
    'closed',
    '--restarts',
    String(options.restarts),
    '--interval',
    String(options.intervalSeconds),
    '--steer',
    options.steer ? 'on' : 'off',
    '--report-dir',
    options.reportDir,
  ];
  const run = await runner.run(options.cli, args, options.cwd, {
    nodeArgs: ['--trace-gc'],
    onStart: (pid) => ((harnessPid = pid), (harnessStartedAt = Date.now())),
    // Only the GC lines are kept: the poc's own terminal view is not needed here.
    onStdout: (text) => {
      const lines = (partialLine + text).split('\n');
      partialLine = lines.pop()!;
      for (const line of lines) if (line.includes('Mark-Compact')) trace += `${line}\n`;
    },
  });
  trace += partialLine;
  running = false;
  await sampling;
  if (didNotRun(run.code))
    throw new SetupError(`the soak's poc run could not run: ${run.stderr.trim().split('\n').at(-1)}`);
  if (samples.length === 0)
    throw new SetupError(`the soak took no samples${lastError ? `: ${(lastError as Error).message}` : ''}`);
  const doc = readResultDocument(`${options.reportDir}/result.json`);
  const triggers = doc.restarts.map((r) => r.triggeredAt);
  const restartsBy = (at: number) => triggers.filter((t) => t <= at).length;
  // Only while the load runs: before it the container is idle, after it the harness renders the report.
  const withRestarts: SoakSample[] = samples
    .filter((s) => s.at >= doc.startedAt && s.at <= doc.endedAt)
    .map((s) => ({ ...s, restarts: restartsBy(s.at) }));
  // Flat is judged from the first restart on: before it the load is still ramping up.
  const underRestarts = withRestarts.filter((s) => s.restarts >= 1);
  if (underRestarts.length === 0)
    throw new SetupError('the soak took no sample while restarts ran; give it more restarts (--soak-restarts)');
  const fds = underRestarts.map((s) => s.serverFds);
  const heapAfterGc = parseMarkCompacts(trace, harnessStartedAt)
    .filter((g) => g.at >= doc.startedAt && g.at <= doc.endedAt)
    .map((g) => ({ ...g, restarts: restartsBy(g.at) }));
  const heapUnderRestarts = heapAfterGc.filter((g) => g.restarts >= 1).map((g) => g.heapMiB);
  return {
    samples: withRestarts,
    heapAfterGc,
    series: [
      series(
        'harness resident memory (MiB)',
        underRestarts.map((s) => s.harnessRssMiB),
      ),
      ...(heapUnderRestarts.length ? [series('harness heap after each full GC (MiB)', heapUnderRestarts)] : []),
      series(
        'processes in the container',
        underRestarts.map((s) => s.containerProcesses),
      ),
      ...(fds.every((n): n is number => n !== null) ? [series('open fds of the server processes', fds)] : []),
    ],
    doc,
    code: run.code,
    seconds: (Date.now() - startedAt) / 1000,
  };
}
