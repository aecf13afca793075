// scripts/swarm/fleet.sh from TypeScript (compare, bench, the swarm test):
// run it, and read the KEY=VALUE lines it prints (url=..., service=...).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TargetError } from '../../../errors.js';
import { PACKAGE_ROOT } from '../../../package-root.js';

export const FLEET_SCRIPT = join(PACKAGE_ROOT, 'scripts', 'swarm', 'fleet.sh');

/** `fleet.sh ARGS...` with extra environment; what it printed, by key. Throws SetupError with its last word when it fails. */
export function fleetScript(args: string[], env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const run = spawnSync('sh', [FLEET_SCRIPT, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (run.status !== 0)
    throw new TargetError(
      `fleet.sh ${args.join(' ')}: ${run.stderr.trim().split('\n').at(-1) || `exit ${run.status ?? run.signal}`}`,
    );
  return Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
