// Tests start the server and harness as real processes from dist/, so the
// TypeScript is compiled once before any test runs. The whole suite
// type-checks the tests too (vitest only strips their types); the unit loop
// leaves that to `npm run lint`, to stay under a minute.
import { execFileSync } from 'node:child_process';

const tsc = (project: string) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

export function build(): void {
  tsc('tsconfig.json');
}

export default function setup(): void {
  build();
  tsc('tsconfig.test.json');
}
