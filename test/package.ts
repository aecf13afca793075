// The package as a user gets it: `npm pack` of this checkout, installed into
// an empty prefix by a PATH that holds Node and npm but no compiler.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findOnPath, isCI } from './ci.js';
import { ROOT, tempDir } from './processes.js';

/** Packs this checkout (prepack builds dist/ and the prebuilt addon) into a new directory; returns the tarball. */
export function packTarball(): string {
  const destination = tempDir('reuseport-lab-pack-');
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', destination], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (pack.status !== 0) throw new Error(`npm pack failed (exit ${pack.status}): ${pack.stderr.slice(-600)}`);
  const tarball = readdirSync(destination).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${destination}`);
  return join(destination, tarball);
}

/**
 * A directory for PATH with node, npm, npx and sh only: no g++, make or
 * python3, as on a CI runner without a toolchain. `node` is the given binary.
 */
export function binWithoutCompiler(node = process.execPath): string {
  const bin = tempDir('reuseport-lab-nocc-');
  const npm = findOnPath(['npm']);
  if (!npm) throw new Error('npm is not on PATH');
  const npmDir = dirname(realpathSync(npm));
  symlinkSync(node, join(bin, 'node'));
  symlinkSync(join(npmDir, 'npm-cli.js'), join(bin, 'npm'));
  symlinkSync(join(npmDir, 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

/** `npm install --global --prefix PREFIX TARBALL` with only `path` on PATH; returns npm's outcome. */
export function installInto(prefix: string, tarball: string, path: string): { status: number | null; stderr: string } {
  mkdirSync(prefix, { recursive: true });
  const install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
    cwd: prefix,
    encoding: 'utf8',
    env: { ...process.env, PATH: path },
  });
  return { status: install.status, stderr: install.stderr };
}

/**
 * Node binaries besides this one that the package must work under:
 * REUSEPORT_LAB_TEST_NODES, paths separated by ':' (.ci/run, whose whole
 * suite runs under Node 24, sets Node 22 from scripts/setup/node-binary.sh and
 * the machine's own Node 20). In CI they must be given.
 */
export function otherNodes(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env.REUSEPORT_LAB_TEST_NODES ?? '').split(':').filter(Boolean);
  if (listed.length === 0 && isCI(env))
    throw new Error(
      "REUSEPORT_LAB_TEST_NODES is not set in CI; .ci/run sets it to the other Node binaries (22, and the machine's 20)",
    );
  return listed;
}

/** `vX.Y.Z` of a node binary. */
export function nodeVersion(node: string): string {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}
