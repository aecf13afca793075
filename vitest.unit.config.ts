// `npm run test:unit`: every test that needs no Docker engine, no load run
// and no browser: the check table, the views, the load clients against
// in-process servers, the server and the restart scripts as processes. What
// differs between Node versions is here; .ci/run runs it under the host's
// Node, and the whole suite (`npm test`, this and the files below) under the
// image's Node.
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/** Files that drive load through the harness, start containers, or open a browser. */
export const LOAD_DOCKER_BROWSER = [
  'harness/faults.test.ts',
  'harness/poc-docker.test.ts',
  'harness/poc-local.test.ts',
  'harness/poc-systemd.test.ts',
  'harness/systemd-image.test.ts',
  'harness/commands/gate-docker.test.ts',
  'harness/commands/gate-tls.test.ts',
  'harness/compare/compare.test.ts',
  'harness/runtime/swarm/swarm.test.ts',
  'harness/view/report-browser.test.ts',
  'scripts/action/action.test.ts',
  'test/gate-image.test.ts',
  'test/package.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: [...configDefaults.exclude, ...LOAD_DOCKER_BROWSER] } }));
