// Whether these tests run in CI, where a missing Docker engine or Chromium is
// a failure, never a skip. CI=false (or 0, or empty) means not CI, the way
// CI services and most tools read it.
export { findOnPath } from '../harness/find-on-path.js';

export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && !['', 'false', '0', 'no'].includes(value);
}
