#!/usr/bin/env node
// The reuseport-lab command (package.json "bin"): the compiled CLI, built by
// `npm ci` (prepare) or `npm run build`. A file of its own so that git keeps
// it executable, whatever the TypeScript build does to dist/.
import '../dist/harness/cli.js';
