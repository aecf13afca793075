// Tests start the server and harness as real processes from dist/, so the
// TypeScript is compiled once before any test runs; the tests themselves are
// type-checked too (vitest only strips their types).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json'], { stdio: 'inherit' });
}
