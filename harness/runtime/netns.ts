// Runs the harness itself inside a private network namespace (scripts/netns-run.sh)
// so that the local runtime's servers and load share a loopback where
// tcp_migrate_req=1, without touching the host's setting.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Set by netns-run.sh inside the namespace. */
export const NETNS_ENV = 'REUSEPORT_LAB_NETNS';
/** netns-run.sh's exit code when the namespace cannot be made. */
const NETNS_UNAVAILABLE = 97;

export function inPrivateNetns(): boolean {
  return process.env[NETNS_ENV] === '1';
}

/**
 * Re-runs this script with `args` inside a new network namespace. Resolves
 * with its exit code, or with null when no namespace could be made (not
 * root, no unshare, old kernel): the caller then runs on the host network.
 */
export function rerunInNetns(scriptsDir: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(scriptsDir, 'netns-run.sh'), [process.execPath, process.argv[1]!, ...args], {
      stdio: 'inherit',
    });
    // The child stops the run and cleans up; the parent passes signals on and
    // waits. (Ctrl-C in a terminal reaches both; the child ignores a repeat.)
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      // The harness itself never exits 97.
      if (code === NETNS_UNAVAILABLE) resolve(null);
      else resolve(code ?? (signal ? 130 : 1));
    });
  });
}
