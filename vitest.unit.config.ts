// `npm run test:unit`: every test that needs no Docker engine, no load run
// and no browser: the check table, the views, the load clients against
// in-process servers, the server and the restart scripts as processes. What
// differs between Node versions is here; .ci/run runs it under the host's
// Node, and the whole suite (`npm test`, this and the files below) under the
// image's Node.
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** Files that drive load through the harness, start containers, or open a browser. */
export const LOAD_DOCKER_BROWSER = [
  'harness/faults.test.ts',
  'harness/poc-docker.test.ts',
  'harness/poc-local.test.ts',
  'harness/poc-systemd.test.ts',
  'harness/poc-http2.test.ts',
  'harness/load/h2-transport.test.ts',
  'harness/systemd-image.test.ts',
  'harness/commands/gate-docker.test.ts',
  'harness/commands/gate-tls.test.ts',
  'harness/compare/compare.test.ts',
  'harness/runtime/target/swarm/swarm.test.ts',
  'harness/view/report-browser.test.ts',
  'scripts/action/action.test.ts',
  'test/gate-image.test.ts',
  'test/package.test.ts',
];

// Four files at a time on two cores: these tests mostly wait on processes
// they started (two at a time used one core's worth: 52 s of CPU in 59 s), and
// none of them loads the machine. Three at a time took 50-57 s, four 43-49 s
// (5 runs in a row, all passed). Modules are shared between the files of a
// worker (isolate: false): importing them again for every file cost 10 s.
// (Spread, not mergeConfig: that would add this setup to the suite's.)
export default defineConfig({
  test: {
    ...base.test,
    exclude: [...configDefaults.exclude, ...LOAD_DOCKER_BROWSER],
    globalSetup: ['test/global-setup-unit.ts'],
    fileParallelism: true,
    maxWorkers: 4,
    isolate: false,
  },
});
