#!/usr/bin/env node
// npm start: build the dashboard when its build is missing or stale, then run the API
// (which serves the dashboard on the same port). Extra args go to the API (e.g. --demo).
// The API runs in this very process (no child), and package.json's `exec node …` replaces npm's
// shell with it, so SIGTERM/SIGINT sent to `npm start` (docker stop, Ctrl-C) reach the API itself.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dashboard = path.join(root, 'apps/dashboard');

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const builtIndex = path.join(dashboard, 'dist/index.html');
const sources = [path.join(dashboard, 'src'), path.join(dashboard, 'public'), path.join(root, 'libs/contracts/src'), path.join(dashboard, 'index.html')];
const stale = !fs.existsSync(builtIndex) || Math.max(...sources.map((s) => (fs.existsSync(s) && fs.statSync(s).isDirectory() ? newestMtime(s) : fs.existsSync(s) ? fs.statSync(s).mtimeMs : 0))) > fs.statSync(builtIndex).mtimeMs;
// STRATA_DASHBOARD_DIR names another build to serve: this one is not needed.
if (stale && !process.env.STRATA_DASHBOARD_DIR && fs.existsSync(path.join(dashboard, 'index.html'))) {
  console.log('Building the dashboard…');
  // Vite's exports map hides bin/, so find the CLI beside its package.json.
  const viteBin = path.join(path.dirname(require.resolve('vite/package.json', { paths: [dashboard] })), 'bin/vite.js');
  const r = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], {
    cwd: dashboard,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('Dashboard build failed; starting the API without it.');
  }
}
require('./ensure-native');
process.argv = [process.argv[0], path.join(__dirname, 'run-ts.js'), path.join(root, 'apps/api/src/main.ts'), ...process.argv.slice(2)];
require('./run-ts.js');
