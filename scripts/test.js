#!/usr/bin/env node
// npm test: every test of every project (unit, integration on a real PostgreSQL, browser
// end-to-end), in one Vitest run. Extra args go to Vitest (e.g. `npm test -- --project stats`).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

require('./ensure-native');
const root = path.resolve(__dirname, '..');
// vitest's package exports hide its CLI file; npm workspaces hoist it to the root.
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false' },
});
process.exit(r.status ?? 1);
