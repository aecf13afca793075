// The kernel's own account of the server's listeners: TCP counters of the
// network namespace the servers run in, read from /proc/<pid>/net (netstat
// for TcpExt, snmp for Tcp). Read around every restart, their deltas say
// what the kernel did at the switchover, which the load clients cannot see:
// connections migrated from a closed listener, SYNs dropped, resets sent.
import { readFile } from 'node:fs/promises';

/** The counters kept, each with the file section it is read from. */
export const NET_COUNTERS = {
  /** A closed listener's queued connection or handshake handed to another listener (tcp_migrate_req). */
  TCPMigrateReqSuccess: 'TcpExt',
  /** ...and one that could not be handed over (reset or dropped). */
  TCPMigrateReqFailure: 'TcpExt',
  /** Handshakes a listener dropped (full queue, or no memory). */
  ListenDrops: 'TcpExt',
  /** Completed connections a full accept queue had no room for. */
  ListenOverflows: 'TcpExt',
  /** Resets sent, by any socket of the namespace. */
  OutRsts: 'Tcp',
} as const;

export type NetCounterName = keyof typeof NET_COUNTERS;
export type NetCounters = Record<NetCounterName, number>;
export const NET_COUNTER_NAMES = Object.keys(NET_COUNTERS) as NetCounterName[];

/**
 * Reads the named counters out of /proc/net/netstat and /proc/net/snmp
 * text: each section is a header line of names and a line of values, both
 * starting with `Section:`.
 */
export function parseNetCounters(netstat: string, snmp: string): NetCounters {
  const sections = new Map<string, Map<string, number>>();
  for (const text of [netstat, snmp]) {
    const lines = text.split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const [section, ...names] = lines[i]!.trim().split(/\s+/);
      const [again, ...values] = lines[i + 1]!.trim().split(/\s+/);
      if (!section?.endsWith(':') || section !== again || values.some((v) => !/^-?\d+$/.test(v))) continue;
      const map = sections.get(section.slice(0, -1)) ?? new Map<string, number>();
      names.forEach((name, at) => map.set(name, Number(values[at])));
      sections.set(section.slice(0, -1), map);
      i++;
    }
  }
  const counters = {} as NetCounters;
  for (const name of NET_COUNTER_NAMES) {
    const value = sections.get(NET_COUNTERS[name])?.get(name);
    if (value === undefined)
      throw new Error(`the kernel has no ${NET_COUNTERS[name]} ${name} counter (older than Linux 5.14?)`);
    counters[name] = value;
  }
  return counters;
}

/** Reads the counters of the network namespace `/proc/<pid>/net` (or `/proc/self/net`) shows. */
export async function readNetCounters(netDir: string): Promise<NetCounters> {
  const [netstat, snmp] = await Promise.all([
    readFile(`${netDir}/netstat`, 'utf8'),
    readFile(`${netDir}/snmp`, 'utf8'),
  ]);
  return parseNetCounters(netstat, snmp);
}

/** What moved from `before` to `after`. */
export function counterDelta(before: NetCounters, after: NetCounters): NetCounters {
  return Object.fromEntries(NET_COUNTER_NAMES.map((name) => [name, after[name] - before[name]])) as NetCounters;
}

/** The counters that moved, as `{ name: delta }` (empty when none did). */
export function moved(delta: NetCounters): Partial<NetCounters> {
  return Object.fromEntries(NET_COUNTER_NAMES.filter((name) => delta[name] !== 0).map((name) => [name, delta[name]]));
}

/** Where a runtime reads its servers' counters, and how. */
export interface NetCounterSource {
  /** e.g. "the container's network namespace (/proc/4711/net)". */
  describe: string;
  read(): Promise<NetCounters>;
}

/** The counters per restart: from just before restart #i to just before the next (or the end of the load). */
export interface NetCounterRecord {
  /** Where they were read; null when they could not be. */
  source: string | null;
  /** Why they could not be read (or stopped being readable), else null. */
  error: string | null;
  /** The warm-up, before the first restart: what a restart's figures compare with. */
  warmup: NetCounters | null;
  restarts: { index: number; delta: NetCounters }[];
}

/**
 * Takes readings at named moments of a run and turns them into deltas.
 * Never throws: a failed reading ends the record with its reason.
 */
export class NetCounterLog {
  private readonly readings: { at: string; counters: NetCounters }[] = [];
  private error: string | null;

  constructor(private readonly source: NetCounterSource | string) {
    this.error = typeof source === 'string' ? source : null;
  }

  /** Takes a reading: `start`, `before #N`, or `end`. */
  async take(at: string): Promise<void> {
    if (this.error !== null || typeof this.source === 'string') return;
    try {
      this.readings.push({ at, counters: await this.source.read() });
    } catch (error) {
      this.error = `${this.source.describe} could not be read at ${at}: ${(error as Error).message}`;
    }
  }

  record(): NetCounterRecord {
    const find = (at: string) => this.readings.find((r) => r.at === at)?.counters;
    const start = find('start');
    const restarts: NetCounterRecord['restarts'] = [];
    const marks = this.readings.filter((r) => r.at.startsWith('before #'));
    for (const [i, mark] of marks.entries()) {
      const next = marks[i + 1]?.counters ?? find('end');
      if (next)
        restarts.push({ index: Number(mark.at.slice('before #'.length)), delta: counterDelta(mark.counters, next) });
    }
    const firstMark = marks[0]?.counters ?? find('end');
    return {
      source: typeof this.source === 'string' ? null : this.source.describe,
      error: this.error,
      warmup: start && firstMark ? counterDelta(start, firstMark) : null,
      restarts,
    };
  }
}
