#!/usr/bin/env node
// npm run bench            -> every benchmark in bench/, one after another
// npm run bench -- assign  -> only bench/assign.ts (or bench/assign/index.ts)
// npm run bench -- scale --layers 10 -> flags (and their values) are passed on to the benchmark
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const benchDir = path.join(root, 'bench');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const all = fs
  .readdirSync(benchDir, { withFileTypes: true })
  .map((d) => (d.isDirectory() ? path.join(d.name, 'index.ts') : d.name))
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_') && fs.existsSync(path.join(benchDir, f)))
  .sort();
const selected = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
// Everything that is not a bench name goes to the benches (`npm run bench -- scale --layers 10`).
const forwarded = process.argv.slice(2).filter((a) => a.startsWith('-') || !all.some((f) => f.startsWith(a)));
let failed = 0;
for (const file of selected) {
  console.log(`\n=== bench/${file}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'run-ts.js'), path.join(benchDir, file), ...forwarded], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
