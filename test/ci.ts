// Whether these tests run in CI, where a missing Docker engine or Chromium is
// a failure, never a skip. CI=false (or 0, or empty) means not CI, the way
// CI services and most tools read it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && !['', 'false', '0', 'no'].includes(value);
}

/** The first of `names` found as an executable on PATH, the way a shell looks it up. */
export function findOnPath(names: string[], path = process.env.PATH ?? ''): string | undefined {
  for (const name of names) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
