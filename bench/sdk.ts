// @strata/sdk getVariant cost in local mode, next to @growthbook/growthbook's `run` on an
// equivalent experiment, in one run. Run: npm run bench -- sdk
//
// Setup: one layer with 5 running experiments (20% of the buckets each, 50/50), the measured one
// targeted on `country in [DE, AT, FR, US]` so targeting is evaluated. The SDK loads the snapshot
// over HTTP from a stub on 127.0.0.1 (the real client code path); events go to the same stub.
// Measured: getVariant with exposure logging off, on (dedup hit: every pair already exposed) and
// the first exposure of a new unit (uuid + ISO timestamp + enqueue; once per pair). GrowthBook: one instance per
// user (its classic client usage), `run`, with and without a trackingCallback.
// Target on the reference 2-core machine: getVariant ≤ 1 µs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigSnapshot, SnapshotExperiment } from '@strata/contracts';
import { GrowthBook, type Experiment } from '@growthbook/growthbook';
import { createClient } from '@strata/sdk';

const IDS = 4096;
let seed = 0x9e3779b9;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const ids = Array.from({ length: IDS }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
const countries = ['DE', 'AT', 'FR', 'US', 'GB'];
const attrs = ids.map((_, i) => ({ country: countries[i % countries.length] }));

const experiments: SnapshotExperiment[] = Array.from({ length: 5 }, (_, e) => ({
  key: `exp-${e}`,
  layer: 'layer-0',
  salt: `exp-salt-${e}`,
  status: 'running',
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  ranges: [{ start: e * 2000, end: (e + 1) * 2000 }],
  targeting: e === 1 ? { attribute: 'country', operator: 'in', value: ['DE', 'AT', 'FR', 'US'] } : null,
  forcedVariants: [],
  shippedVariant: null,
}));
const snapshot: ConfigSnapshot = {
  version: 'bench',
  generatedAt: new Date().toISOString(),
  layers: [{ key: 'layer-0', salt: 'layer-salt-0' }],
  experiments,
};

const gbExperiment: Experiment<string> = {
  key: 'exp-1',
  seed: 'exp-salt-1',
  variations: ['control', 'treatment'],
  weights: [0.5, 0.5],
  hashVersion: 2,
  namespace: ['layer-0', 0.2, 0.4],
  condition: { country: { $in: ['DE', 'AT', 'FR', 'US'] } },
};

let sink = 0;
function measure(name: string, iterations: number, body: (i: number) => number, rounds = 7): number {
  for (let i = 0; i < Math.min(iterations, 200_000); i++) sink += body(i);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += body(i);
    times.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(rounds / 2)];
  console.log(`${name.padEnd(70)} ${median.toFixed(0).padStart(6)} ns/call   (best ${times[0].toFixed(0)})`);
  return median;
}

async function main(): Promise<void> {
  let eventsReceived = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/sdk/config') {
        res.writeHead(200, { 'content-type': 'application/json', etag: '"bench"' });
        return res.end(JSON.stringify(snapshot));
      }
      eventsReceived += (JSON.parse(body) as { events: unknown[] }).events.length;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: 0, duplicates: 0, rejected: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mask = IDS - 1;
  console.log(`node ${process.version}; 1 layer × 5 experiments (20% each), measured experiment targeted; ${IDS} distinct UUID ids\n`);

  const quiet = createClient({ apiUrl, sdkKey: 'bench', logExposures: false });
  const logging = createClient({ apiUrl, sdkKey: 'bench', maxQueueSize: 2_000_000, flushIntervalMs: 60_000, maxBatchSize: 1000 });
  const fresh = createClient({
    apiUrl,
    sdkKey: 'bench',
    maxQueueSize: 2_000_000,
    flushIntervalMs: 3_600_000,
    maxBatchSize: 1000,
    exposureCacheSize: 2_000_000,
  });
  if (!(await quiet.ready()) || !(await logging.ready()) || !(await fresh.ready())) throw new Error('snapshot not loaded');

  const v = (s: string | null): number => (s === null ? 0 : s.length);
  const off = measure('strata client.getVariant (local, exposure logging off)', 3_000_000, (i) =>
    v(quiet.getVariant('exp-1', ids[i & mask], attrs[i & mask])),
  );
  const hit = measure('strata client.getVariant (local, logging on, dedup hit)', 3_000_000, (i) =>
    v(logging.getVariant('exp-1', ids[i & mask], attrs[i & mask])),
  );
  // First exposures: ids known to be in the experiment, each seen once; the path is warmed up on other ids first.
  const inExperiment = (prefix: string, n: number): string[] => {
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) if (quiet.getAssignment('exp-0', `${prefix}-${i}`) !== null) out.push(`${prefix}-${i}`);
    return out;
  };
  const warm = inExperiment('warm', 100_000);
  for (const id of warm) sink += v(fresh.getVariant('exp-0', id));
  const newIds = inExperiment('new', 100_000);
  // Timed in chunks of 1,000 with the queue drained in between (untimed), as delivery would.
  await fresh.flush();
  const sentBefore = fresh.stats().sent;
  let firstTotal = 0n;
  for (let from = 0; from < newIds.length; from += 1000) {
    const t0 = process.hrtime.bigint();
    for (let i = from; i < from + 1000; i++) sink += v(fresh.getVariant('exp-0', newIds[i]));
    firstTotal += process.hrtime.bigint() - t0;
    await fresh.flush();
  }
  const firstNs = Number(firstTotal) / newIds.length;
  if (fresh.stats().sent - sentBefore !== newIds.length) throw new Error('expected one exposure per new id');
  console.log(
    `${'strata client.getVariant (local, first exposure: id + timestamp + enqueue)'.padEnd(70)} ${firstNs.toFixed(0).padStart(6)} ns/call   (one-off per pair)`,
  );

  console.log('');
  const gbUsers = ids.slice(0, 1024).map((id, i) => new GrowthBook({ attributes: { id, ...attrs[i] } }));
  const gbRun = measure(
    'growthbook new GrowthBook({attributes}).run (instance per user)',
    300_000,
    (i) => gbUsers[i & 1023].run(gbExperiment).variationId,
  );
  let tracked = 0;
  const gbTracked = ids
    .slice(0, 1024)
    .map((id, i) => new GrowthBook({ attributes: { id, ...attrs[i] }, trackingCallback: () => void tracked++ }));
  const gbTrack = measure(
    'growthbook run with trackingCallback (dedup hit)',
    300_000,
    (i) => gbTracked[i & 1023].run(gbExperiment).variationId,
  );

  console.log(
    `\ngetVariant: ${off.toFixed(0)} ns (logging off), ${hit.toFixed(0)} ns (logging on, dedup hit) vs growthbook run ${gbRun.toFixed(0)} ns / ${gbTrack.toFixed(0)} ns with tracking; target ≤ 1 µs: ${Math.max(off, hit) <= 1000 ? 'met' : 'MISSED'}`,
  );
  console.log(`(checksum ${sink}, tracked ${tracked}, events received by the stub ${eventsReceived})`);
  for (const gb of [...gbUsers, ...gbTracked]) gb.destroy();
  await Promise.all([quiet.close(100), logging.close(1000), fresh.close(10)]);
  server.closeAllConnections();
  server.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
