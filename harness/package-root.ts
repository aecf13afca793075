// This package's own files (Dockerfile, scripts/, systemd/, examples/) and
// version, found from the running module: the same code runs from harness/
// (tests), dist/harness/ (a clone) and an installed package.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}; is the package complete?`);
    dir = parent;
  }
  return dir;
}

/** The directory that holds this package's package.json. */
export const PACKAGE_ROOT = findRoot();

/** The package's version, as `reuseport-lab --version` prints it. */
export const VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
