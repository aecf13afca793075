// Scale of a fleet on this machine: our server as 1, 3 and 6 replicas of a
// swarm service behind HAProxy (scripts/swarm/fleet.sh), one start-first
// update each under each load mode, judged by the gate. Per run: requests
// lost, how long the update took, and the CPU the gate and the replicas
// spent (the gate's from this process's reaped-children times, the
// replicas' from each container's cpuacct cgroup, sampled while it lives).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { type ChildRunner, didNotRun, setupReason } from '../child-run.js';
import { SetupError } from '../errors.js';
import { fleetScript } from '../runtime/target/swarm/fleet-script.js';
import { readResultDocument } from '../result/document.js';
import { ticksPerSecond } from './measure.js';

export interface FleetRow {
  replicas: number;
  load: 'keepalive' | 'churn';
  requests: number;
  failed: number;
  /** From the update command's start until the service settled. */
  updateSeconds: number;
  /** CPU seconds of the gate (load included), and of every replica that lived during the run. */
  harnessCpuSeconds: number;
  replicasCpuSeconds: number;
}

/** CPU time of this process's reaped children (cutime + cstime), in s. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond();
}

/** Each container's CPU use (ns, cgroup v1 cpuacct or v2 cpu.stat), sampled until stopped: the growth per container. */
class ContainerCpu {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  /** After the first sample: containers seen from then on were born during the run. */
  private baselined = false;

  constructor(
    private readonly docker: Docker,
    private readonly service: string,
  ) {}

  start(): void {
    const tick = async () => {
      const containers = await this.docker.listContainers({
        filters: { label: [`com.docker.swarm.service.name=${this.service}`] },
      });
      for (const { Id } of containers) {
        const used = usageNanos(Id);
        if (used === null) continue;
        // A container running at the start counts from there; one born during the run, from zero.
        if (!this.first.has(Id)) this.first.set(Id, this.baselined ? 0 : used);
        this.last.set(Id, used);
      }
      this.baselined = true;
      if (this.timer) this.timer = setTimeout(() => void tick(), 200);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  /** Stops sampling; the CPU seconds every container spent since start(). */
  stop(): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    let total = 0;
    for (const [id, used] of this.last) total += used - (this.first.get(id) ?? 0);
    return total / 1e9;
  }
}

function usageNanos(id: string): number | null {
  for (const path of [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${id}/cpu.stat`,
  ]) {
    try {
      const text = readFileSync(path, 'utf8');
      const usec = /usage_usec (\d+)/.exec(text);
      return usec ? Number(usec[1]) * 1000 : Number(text.trim());
    } catch {
      // Not this cgroup layout.
    }
  }
  return null;
}

/** Every replica count × both load modes; one fleet per replica count, torn down after. */
export async function fleetScale(options: {
  root: string;
  cli: string;
  dir: string;
  image: string;
  docker: Docker;
  runner: ChildRunner;
  counts: number[];
  say: (line: string) => void;
}): Promise<FleetRow[]> {
  const rows: FleetRow[] = [];
  const stack = 'rplabbench';
  for (const replicas of options.counts) {
    const { url, service } = fleetScript(['up', stack], { IMAGE: options.image, REPLICAS: String(replicas) });
    try {
      for (const load of ['keepalive', 'churn'] as const) {
        if (options.runner.interrupted) return rows;
        options.say(`fleet: ${replicas} replica(s), ${load}...`);
        const reportDir = join(options.dir, 'fleet', `${replicas}-${load}`);
        const cpu = new ContainerCpu(options.docker, service!);
        cpu.start();
        const before = childrenCpuSeconds();
        const run = await options.runner.run(
          options.cli,
          [
            'gate',
            '--swarm-service',
            service!,
            '--url',
            url!,
            '--load',
            load,
            '--connections',
            '20',
            '--restarts',
            '1',
            '--warmup',
            '3',
            '--cooldown',
            '3',
            '--restart-timeout',
            '180',
            '--report-dir',
            reportDir,
          ],
          options.root,
        );
        const harnessCpuSeconds = childrenCpuSeconds() - before;
        const replicasCpuSeconds = cpu.stop();
        if (didNotRun(run.code)) throw new SetupError(`the fleet gate run failed to start: ${setupReason(run.stderr)}`);
        const doc = readResultDocument(join(reportDir, 'result.json'));
        const update = doc.restarts[0];
        rows.push({
          replicas,
          load,
          requests: doc.totalRequests,
          failed: doc.failedRequests,
          updateSeconds: update ? (update.finishedAt - update.triggeredAt) / 1000 : NaN,
          harnessCpuSeconds,
          replicasCpuSeconds,
        });
      }
    } finally {
      fleetScript(['down', stack]);
    }
  }
  return rows;
}
