// A zombie left behind is one whose parent never reaps it. Processes that
// `docker exec` starts (a HEALTHCHECK's node, the harness's own probes) have
// their parent outside the container: each is a zombie for a moment after it
// exits, until containerd's shim reaps it. One scan catches such a moment now
// and then, so a zombie counts only if a second scan a little later still
// finds the same process unreaped.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScannedProcess {
  pid: number;
  /** The state letter of /proc/<pid>/stat or ps: Z for a zombie. */
  state: string;
  /** What tells a reused PID apart (the start time), where the scan has it. */
  start?: string;
}

/** How long a zombie must stay unreaped to count: a shim reaps at once; this leaves room for a busy machine. */
export const ZOMBIE_GRACE_MS = 500;

/**
 * How many of the zombies in `first` a second scan, `graceMs` later, still
 * finds unreaped (same PID and start time). No second scan when the first
 * found none.
 */
export async function lastingZombies<P extends ScannedProcess>(
  first: P[],
  rescan: () => Promise<P[]>,
  graceMs = ZOMBIE_GRACE_MS,
): Promise<number> {
  const key = (p: P) => `${p.pid}/${p.start ?? ''}`;
  const zombies = new Set(first.filter((p) => p.state === 'Z').map(key));
  if (zombies.size === 0) return 0;
  await sleep(graceMs);
  return (await rescan()).filter((p) => p.state === 'Z' && zombies.has(key(p))).length;
}
