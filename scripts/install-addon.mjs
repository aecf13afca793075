#!/usr/bin/env node
// npm's install step for the native addon (package.json "install").
//
// An installed package carries the addon prebuilt for linux-x64 (prebuilds/,
// made by prebuildify when the package is packed); node-gyp-build loads it at
// run time and this script has nothing to do. Where no prebuilt fits (another
// platform or architecture), it builds the addon with node-gyp. Without a
// compiler that build cannot happen: in an installed package that is one
// line and exit 0, because the gate, compare and report work without the
// addon (only the server half needs it); in a clone, where the addon is what
// is being developed, it is an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
// npm sets INIT_CWD to where it was run: this directory when it installs it.
const installed = process.env.INIT_CWD !== undefined && resolve(process.env.INIT_CWD) !== root;
const say = (line) => process.stderr.write(`reuseport-lab: ${line}\n`);

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** A clone's own node-gyp (a dev dependency), else the one npm hands its scripts. */
function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return process.env.npm_config_node_gyp;
  }
}

if (installed && loads()) process.exit(0);

const platform = `${process.platform}-${process.arch}`;
/** Installed: say why there is no addon and go on (exit 0). Developing: fail. */
const giveUp = (why) => {
  if (!installed) {
    say(`the native addon cannot be built: ${why}`);
    process.exit(1);
  }
  say(
    `no prebuilt native addon fits ${platform} and ${why}: the gate, compare and report work without it, reuseport-lab/server does not; install g++, make and python3, then run npm rebuild reuseport-lab`,
  );
  process.exit(0);
};

// node-gyp's Makefiles compile with $CXX, g++ by default.
const missing = [process.env.CXX?.split(' ')[0] || 'g++', 'make', 'python3'].filter((command) => !onPath(command));
if (missing.length) giveUp(`there is no compiler to build one (${missing.join(', ')} not on PATH)`);
const gyp = nodeGyp();
if (!gyp) giveUp('node-gyp, which builds it, was not found');

if (installed) say(`no prebuilt native addon fits ${platform}: building it with node-gyp`);
// A developer sees node-gyp's whole output; an installer only its end when it fails.
const build = spawnSync(process.execPath, [gyp, 'rebuild'], {
  cwd: root,
  stdio: installed ? ['ignore', 'ignore', 'pipe'] : 'inherit',
  encoding: 'utf8',
});
if (build.status === 0 && loads()) process.exit(0);
if (build.stderr) process.stderr.write(`${build.stderr.trimEnd().split('\n').slice(-15).join('\n')}\n`);
giveUp(`building it with node-gyp failed (exit ${build.status ?? build.signal})`);
