#!/usr/bin/env node
// Runs a TypeScript entry point with SWC (keeps decorator metadata, which NestJS needs).
// Usage: node scripts/run-ts.js path/to/file.ts [args...]
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'apps/api/tsconfig.app.json');
require('./ensure-native');
require('@swc-node/register');

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
