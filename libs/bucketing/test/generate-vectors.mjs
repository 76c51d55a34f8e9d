#!/usr/bin/env node
// Regenerates vectors.json: node libs/bucketing/test/generate-vectors.mjs
//
// Independent of src/: hashes with the npm `murmurhash` package (the reference, which UTF-8
// encodes strings with TextEncoder) and maps variants with its own few lines, so the vectors
// check the fast implementation instead of restating it. Other-language ports should pass them.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const murmurhash = require('murmurhash');

const BUCKETS = 10000;
const hash = (salt, unitId) => murmurhash.v3(new TextEncoder().encode(`${salt}:${unitId}`), 0);

function variantIndex(weights, u) {
  let cumulative = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    cumulative += weights[i];
    if (u < cumulative) return i;
  }
  return weights.length - 1;
}

const ids = [
  { note: 'ascii', unitId: 'user-1' },
  { note: 'ascii', unitId: 'user-42' },
  { note: 'ascii uuid', unitId: '3f2b8c1e-9d4a-4e7b-8f0a-1c2d3e4f5a6b' },
  { note: 'empty string', unitId: '' },
  { note: 'latin-1 (2-byte UTF-8)', unitId: 'Zoë Ångström' },
  { note: 'CJK (3-byte UTF-8)', unitId: '日本語ユーザー' },
  { note: 'emoji (surrogate pairs, 4-byte UTF-8)', unitId: '😀🎉 user' },
  { note: 'combining mark, not normalized', unitId: 'e\u0301' },
  { note: 'lone high surrogate, hashed as U+FFFD (EF BF BD)', unitId: 'a\ud83d' },
  { note: 'lone low surrogate, hashed as U+FFFD (EF BF BD)', unitId: '\ude00b' },
  { note: '1 KB ascii id', unitId: 'x'.repeat(1024) },
  { note: '1 KB of 2-byte characters', unitId: 'é'.repeat(512) },
];

const configs = [
  { layerSalt: 'layer-salt-1', experimentSalt: 'exp-salt-1', variants: ['control', 'treatment'], weights: [0.5, 0.5] },
  { layerSalt: 'homepage', experimentSalt: 'checkout-3f9a', variants: ['a', 'b', 'c', 'd'], weights: [0.1, 0.2, 0.3, 0.4] },
  { layerSalt: 'ünïcödé-salt', experimentSalt: '🧪', variants: ['x', 'y', 'z'], weights: [1 / 3, 1 / 3, 1 / 3] },
  { layerSalt: 's', experimentSalt: 'rerandomized-2', variants: ['control', 'treatment'], weights: [0.9, 0.1] },
];

const vectors = [];
for (const c of configs) {
  for (const { note, unitId } of ids) {
    const layerHash = hash(c.layerSalt, unitId);
    const variantHash = hash(c.experimentSalt, unitId);
    const u = variantHash / 2 ** 32;
    const index = variantIndex(c.weights, u);
    // JSON with lone surrogates is rejected by strict parsers (serde_json, Vite), so those ids are
    // published as UTF-16 code units; `unitId` then holds the well-formed form with U+FFFD, which
    // hashes to the same bytes by the spec.
    const wellFormed = unitId.toWellFormed();
    const id = wellFormed === unitId ? { unitId } : { unitId: wellFormed, unitIdUtf16: [...unitId].flatMap((ch) => [...Array(ch.length).keys()].map((k) => ch.charCodeAt(k))) };
    vectors.push({ note, ...id, ...c, layerHash, bucket: layerHash % BUCKETS, variantHash, u, variantIndex: index, variant: c.variants[index] });
  }
}

// Holdouts: a unit is held out when u = hash(holdoutSalt, unitId) / 2^32 < share; then it gets no
// assignment (not even a shipped one) in the layers the holdout covers. Large shares so both
// outcomes occur among the few ids.
const holdoutConfigs = [
  { holdoutSalt: 'global-holdout-2026', share: 0.5 },
  { holdoutSalt: 'ünïcödé-holdout', share: 0.3 },
  { holdoutSalt: 'h', share: 0.05 },
];
const holdouts = [];
for (const c of holdoutConfigs) {
  for (const { note, unitId } of ids) {
    const holdoutHash = hash(c.holdoutSalt, unitId);
    const u = holdoutHash / 2 ** 32;
    const wellFormed = unitId.toWellFormed();
    const id = wellFormed === unitId ? { unitId } : { unitId: wellFormed, unitIdUtf16: [...unitId].flatMap((ch) => [...Array(ch.length).keys()].map((k) => ch.charCodeAt(k))) };
    holdouts.push({ note, ...id, ...c, holdoutHash, u, inHoldout: u < c.share });
  }
}

// Staged ships: a shipped experiment with shipShare s gives its winner to a unit in targeting when
// u = hash(`${experimentSalt}:ship`, unitId) / 2^32 < s (the hash input is `${salt}:ship:${unitId}`),
// else nothing (the default). Each config lists the same ids at rising shares: monotone by u.
const shipConfigs = [
  { experimentSalt: 'exp-salt-1', shipShares: [0.1, 0.5, 1] },
  { experimentSalt: '🧪', shipShares: [0.25, 0.75] },
];
const ships = [];
for (const c of shipConfigs) {
  for (const { note, unitId } of ids) {
    const shipHash = hash(`${c.experimentSalt}:ship`, unitId);
    const u = shipHash / 2 ** 32;
    const wellFormed = unitId.toWellFormed();
    const id = wellFormed === unitId ? { unitId } : { unitId: wellFormed, unitIdUtf16: [...unitId].flatMap((ch) => [...Array(ch.length).keys()].map((k) => ch.charCodeAt(k))) };
    ships.push({ note, ...id, ...c, shipHash, u, shipped: c.shipShares.map((s) => s >= 1 || u < s) });
  }
}

const out = {
  description:
    'Strata bucketing test vectors. hash = MurmurHash3 x86 32-bit, seed 0, of the UTF-8 bytes of `${salt}:${unitId}` ' +
    '(lone surrogates as U+FFFD); bucket = layerHash mod 10000; u = variantHash / 2^32; variant = first i with ' +
    'u < weights[0] + … + weights[i] (summed left to right in doubles), else the last. Generated by generate-vectors.mjs ' +
    'with the npm murmurhash reference. holdouts: u = hash(holdoutSalt, unitId) / 2^32; inHoldout = u < share; a held-out ' +
    'unit gets no assignment in the layers its holdout covers. ships: u = hash(experimentSalt + ":ship", unitId) / 2^32 ' +
    '(bytes of `${salt}:ship:${unitId}`); shipped[i] = u < shipShares[i] (always at 1): a staged ship gives the winner ' +
    'to units in targeting with shipped[i], the others get no assignment.',
  buckets: BUCKETS,
  vectors,
  holdouts,
  ships,
};
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'vectors.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors, ${holdouts.length} holdout vectors and ${ships.length} ship vectors`);
