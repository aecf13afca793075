// Local runtime: the server and restart.sh as processes on this machine,
// ideally inside a private network namespace (netns.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TargetError } from '../../errors.js';
import { alive, freePort } from '../processes.js';
import { type NetCounterSource, readNetCounters } from '../net-counters.js';
import {
  type RestartSettings,
  type RestartStrategy,
  restartCommandOf,
  type TargetCommand,
} from '../../strategies/strategy.js';
import {
  limitedRestart,
  RESTART_KILL_GRACE_MS,
  type RestartRecord,
  type RestartRequest,
  type Runtime,
  SEES_ALL,
  type Sight,
  type Started,
} from '../runtime.js';

export interface LocalOptions {
  /** scripts/ of this checkout. */
  scriptsDir: string;
  /** True when running in a namespace of our own, where port 8080 is free. */
  inPrivateNetns: boolean;
  /** Why there is no private namespace, when there is none. */
  netnsNote?: string;
  strategy: RestartStrategy;
  settings: RestartSettings;
  /** Time limit of one restart. */
  restartTimeoutSeconds: number;
}

interface CommandRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
}

/**
 * Runs a strategy's restart command. Past `limitMs` it gets SIGTERM
 * (restart.sh then rolls back or completes, by its contract) and
 * RESTART_KILL_GRACE_MS later SIGKILL; what it printed until then is kept.
 */
function runCommand(path: string, args: string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), RESTART_KILL_GRACE_MS);
    }, limitMs);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      clearTimeout(kill);
      resolve({ stdout, stderr, exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128), timedOut });
    });
  });
}

function envObject(pairs: string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}

function tcpMigrateReq(): string {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim();
  } catch {
    return 'unavailable';
  }
}

const SHARED_NETNS =
  "the servers share this machine's network namespace, whose counters hold every other connection too";

export const AMONG_OTHERS =
  "local servers run among the machine's other processes; the docker runtime probes what is left";

export class LocalRuntime implements Runtime {
  readonly kind = 'local';
  readonly description: string;
  readonly facts: Record<string, string>;
  readonly observes: Sight;
  private readonly stateDir = mkdtempSync(join(tmpdir(), 'reuseport-lab-'));
  private readonly pids = new Set<number>();
  private env: NodeJS.ProcessEnv = {};
  private closed = false;

  constructor(private readonly options: LocalOptions) {
    this.observes = {
      ...SEES_ALL,
      processes: AMONG_OTHERS,
      fds: AMONG_OTHERS,
      kernelCounters: options.inPrivateNetns ? true : SHARED_NETNS,
    };
    // Last resort if the harness dies without close(): no server outlives it.
    process.once('exit', () => this.killAllNow());
    const migrate = tcpMigrateReq();
    this.description = options.inPrivateNetns
      ? `local processes in a private network namespace (tcp_migrate_req=${migrate})`
      : `local processes on the host network (tcp_migrate_req=${migrate}; ${options.netnsNote ?? 'no private namespace'})`;
    this.facts = {
      runtime: 'local',
      node: process.version,
      kernel: release(),
      tcp_migrate_req: migrate,
      network: options.inPrivateNetns ? 'private network namespace' : 'host network',
    };
  }

  async start(serverEnv: string[] = []): Promise<Started> {
    const port = this.options.inPrivateNetns ? 8080 : await freePort();
    this.env = {
      ...process.env,
      STATE_DIR: this.stateDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      APP_VERSION: 'v1',
      ...envObject(serverEnv),
    };
    const first = await this.run(
      { index: 0, version: 'v1' },
      this.options.strategy.coldStartCommand(this.options.scriptsDir, this.options.settings),
    );
    if (first.exitCode !== 0 || first.newPid === null) {
      const why = first.timedOut ?? first.messages.split('\n').pop() ?? '';
      throw new TargetError(
        `the first server did not start (exit ${first.exitCode}): ${why}; see ${join(this.stateDir, 'server.log')}`,
      );
    }
    return {
      target: { host: '127.0.0.1', port, pid: first.newPid },
      restart: (request) =>
        this.run(
          request,
          restartCommandOf(this.options.strategy, this.options.scriptsDir, this.options.settings, request.tweak),
        ),
      // Orphaned servers here belong to whatever reaps this host's orphans, so nothing is judged.
      leftovers: async () => null,
      netCounters: () => this.netCounters(),
      serverLog: async () => readFileSync(join(this.stateDir, 'server.log'), 'utf8'),
    };
  }

  private async run(request: RestartRequest, command: TargetCommand): Promise<RestartRecord> {
    const { index, version } = request;
    const limitMs = (request.timeoutSeconds ?? this.options.restartTimeoutSeconds) * 1000;
    const [program, ...args] = command.argv;
    if (!program) throw new Error(`${this.options.strategy.name}: an empty restart command`);
    const record = await limitedRestart(
      { index, strategy: this.options.strategy.name, version, limitMs },
      async (limit) => {
        const run = await runCommand(
          program,
          args,
          { ...this.env, APP_VERSION: version, ...envObject(command.env) },
          limit,
        );
        return { ...run, endedAtLimit: run.timedOut ? `the harness ended it (exit ${run.exitCode})` : null };
      },
    );
    if (record.newPid !== null) this.pids.add(record.newPid);
    return record;
  }

  private netCounters(): NetCounterSource | string {
    if (!this.options.inPrivateNetns) return SHARED_NETNS;
    // The harness runs in the servers' namespace (netns-run.sh): its own view is theirs.
    return {
      describe: "the private network namespace's counters (/proc/self/net)",
      read: () => readNetCounters('/proc/self/net'),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Every server this runtime started, by PID: SIGTERM, a short wait, SIGKILL.
    const running = [...this.pids].filter(alive);
    for (const pid of running) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && running.some(alive); i++) await sleep(100);
    for (const pid of running.filter(alive)) process.kill(pid, 'SIGKILL');
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  private killAllNow(): void {
    for (const pid of [...this.pids].filter(alive)) process.kill(pid, 'SIGKILL');
  }
}
