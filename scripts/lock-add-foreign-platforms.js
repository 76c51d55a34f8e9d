#!/usr/bin/env node
// Maintenance: run after `npm install` changes package-lock.json.
//
// The npm registry mirror on our build machines serves only the linux-x64 builds of a few
// native packages (@swc/core-*, @nx/nx-*); npm then leaves the other platforms' optional
// packages out of the lock, and `npm ci` refuses the lock as "out of sync". This adds a
// stub entry (version + os/cpu/libc, optional) for each missing platform package, which
// npm skips on non-matching machines exactly as it would a full entry.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

function platformOf(name) {
  const os = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony'].find((o) => name.includes(`-${o}-`));
  const cpu = ['arm64', 'x64', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'arm'].find((c) => new RegExp(`-${c}(-|$)`).test(name));
  const libc = /-musl(-|$)/.test(name) ? 'musl' : /-gnu/.test(name) && os === 'linux' ? 'glibc' : undefined;
  return { os, cpu, libc };
}

/** The entry Node would resolve `dep` to from package path `fromPath`, or undefined. */
function resolve(fromPath, dep) {
  let dir = fromPath;
  for (;;) {
    const hit = pkgs[`${dir ? `${dir}/` : ''}node_modules/${dep}`];
    if (hit) return hit;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

let added = 0;
// Shallow packages first, so the top-level copy claims the top-level slot.
const byDepth = Object.entries(pkgs).sort((a, b) => a[0].split('node_modules/').length - b[0].split('node_modules/').length);
for (const [p, entry] of byDepth) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const found = resolve(p, dep);
    if (found && found.version === version) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os || !cpu) continue;
    const where = pkgs[`node_modules/${dep}`] ? `${p}/node_modules/${dep}` : `node_modules/${dep}`;
    pkgs[where] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
    added++;
  }
}
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} foreign-platform stub(s) to package-lock.json`);
