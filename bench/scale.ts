// Scale: many running experiments at once, driven only through the HTTP API so it measures whatever
// analysis engine the API ships (before and after an engine change alike).
//
// Run: npm run bench -- scale                                   100 layers × 20 experiments, 500,000 events
//      npm run bench -- scale --layers 10 --per-layer 20 --events 50000   a quick run
//      npm run bench -- scale --large  (or STRATA_BENCH_LARGE=1)  adds one experiment of 10M events / 1M units
// Other flags: --timeout <s> (how long to wait for results to include the events, default 600),
//              --idle <s> (idle CPU window, default 30), --large-units <n> (default 1,000,000).
//
// The API runs as its own process (`apps/api/src/main.ts`, as `npm start` runs it) on a throwaway
// embedded PostgreSQL, with its jobs on and their default intervals, so the idle CPU read from
// /proc/<pid>/stat is the API's and PostgreSQL's alone. Prints:
//   - create + start p50/p95 for the first and last 10 % of experiments created;
//   - per-event ack → visible-in-results lag (p95, max) after all events were sent;
//   - idle CPU of node + postgres over the idle window with nothing arriving;
//   - repeated `GET …/results` p50/p99 of a small experiment;
//   - the list page's requests (list + summaries for 25 rows; the old fan-out when summaries are missing);
//   - `/v1/assign` reply size and `/v1/sdk/config` size, raw and gzip.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hashUnit, pickVariant } from '@strata/bucketing';
import type { ExperimentDto, ExperimentResultsDto, Page } from '@strata/contracts';

const ADMIN_KEY = 'sk_admin_bench-scale-0123456789abcdef';
const BATCH = 1000;
const SEND_CONCURRENCY = 4;
const POLL_CONCURRENCY = 4;
const METRIC = 'bench_action';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = inline ? inline.slice(name.length + 3) : i >= 0 ? process.argv[i + 1] : undefined;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number (got ${raw})`);
  return n;
}

const LAYERS = flag('layers', 100);
const PER_LAYER = flag('per-layer', 20);
const EVENTS = flag('events', 500_000);
const TIMEOUT_S = flag('timeout', 600);
const IDLE_S = flag('idle', 30);
const LARGE = process.argv.includes('--large') || process.env.STRATA_BENCH_LARGE === '1';
/** Units of the large experiment (10 events each); smaller for a smoke run of that phase. */
const LARGE_UNITS = flag('large-units', 1_000_000);

const pct = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const sortNum = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------- the API process ----------

interface ApiProcess {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startApi(): Promise<ApiProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-bench-scale-'));
  chmodSync(dataDir, 0o755);
  const root = resolve(__dirname, '..');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', STRATA_DATA_DIR: dataDir, STRATA_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', STRATA_DASHBOARD_DIR: '/nonexistent' };
  delete env.DATABASE_URL;
  // Its own process group, so a failure here can still stop it and its PostgreSQL as one.
  const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), join(root, 'apps/api/src/main.ts')], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (!exited && Date.now() < deadline) await sleep(100);
      if (!exited) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (): void => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const base = await new Promise<string>((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`API did not start in 120 s: ${out}`)), 120_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /Strata is running at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          done(m[1].replace('localhost', '127.0.0.1'));
        }
      });
      child.on('exit', (code) => fail(new Error(`API exited with ${code}: ${out}`)));
    });
    child.stdout?.resume();
    return { base, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------- HTTP ----------

async function call<T>(base: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; bytes: number; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 500)}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, bytes: Buffer.byteLength(text), text };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// ---------- CPU from /proc ----------

const CLK_TCK = 100;

function statOf(pid: number): { ppid: number; comm: string; ticks: number; childTicks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // Fields after ")": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** CPU ticks of the API process and every process below it (PostgreSQL and its backends, including reaped ones). */
function treeTicks(rootPid: number): number {
  const stats = new Map<number, NonNullable<ReturnType<typeof statOf>>>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = statOf(pid);
    if (s) stats.set(pid, s);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, depth = 0; p > 1 && depth < 10; depth++) {
      if (p === rootPid) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of stats) {
    if (!inTree(pid)) continue;
    // The postmaster's cutime/cstime hold the backends it has already reaped.
    ticks += s.ticks + (pid !== rootPid && s.comm.startsWith('postgres') ? s.childTicks : 0);
  }
  return ticks;
}

// ---------- the workload ----------

interface BenchExperiment {
  key: string;
  salt: string;
  variantKeys: string[];
  cumulative: Float64Array;
}

function variantOf(e: BenchExperiment, unitId: string): string {
  return e.variantKeys[pickVariant(e.cumulative, hashUnit(e.salt, unitId) / 4294967296)];
}

/**
 * Creates and starts every experiment, one after the other, timing each create + start; also the
 * CPU (API + PostgreSQL) spent on the first and last 10 %: unlike latency on a shared machine,
 * that shows whether a change's cost grows with the number of experiments.
 */
async function createAndStart(base: string, layers: number, perLayer: number, apiPid: number): Promise<{ experiments: BenchExperiment[]; createStartMs: number[]; cpuMsFirst: number; cpuMsLast: number }> {
  await call(base, ADMIN_KEY, 'POST', '/v1/metrics', { key: METRIC, name: 'Bench action', type: 'count', eventName: METRIC });
  const experiments: BenchExperiment[] = [];
  const createStartMs: number[] = [];
  const traffic = Math.floor(10_000 / perLayer) / 100;
  const tenth = Math.max(1, Math.floor((layers * perLayer) / 10));
  let ticksAt = 0;
  let cpuMsFirst = NaN;
  let cpuMsLast = NaN;
  for (let l = 0; l < layers; l++) {
    const layer = `layer-${String(l).padStart(3, '0')}`;
    await call(base, ADMIN_KEY, 'POST', '/v1/layers', { key: layer, name: layer });
    for (let i = 0; i < perLayer; i++) {
      const key = `${layer}-exp-${String(i).padStart(2, '0')}`;
      const n = createStartMs.length;
      if (n === 0 || n === layers * perLayer - tenth) ticksAt = treeTicks(apiPid);
      const ms = await timed(async () => {
        await call(base, ADMIN_KEY, 'POST', '/v1/experiments', {
          key,
          name: key,
          layer,
          traffic,
          variants: [
            { key: 'control', weight: 0.5 },
            { key: 'treatment', weight: 0.5 },
          ],
          primaryMetric: METRIC,
        });
        await call(base, ADMIN_KEY, 'POST', `/v1/experiments/${key}/start`, {});
      });
      createStartMs.push(ms);
      if (createStartMs.length === tenth) cpuMsFirst = ((treeTicks(apiPid) - ticksAt) * 1000) / CLK_TCK / tenth;
      if (createStartMs.length === layers * perLayer) cpuMsLast = ((treeTicks(apiPid) - ticksAt) * 1000) / CLK_TCK / tenth;
      experiments.push({ key, salt: key, variantKeys: ['control', 'treatment'], cumulative: Float64Array.from([0.5, 1]) });
    }
  }
  return { experiments, createStartMs, cpuMsFirst, cpuMsLast };
}

/** What one experiment should show once a checkpoint is visible, and when that checkpoint was acknowledged. */
interface Checkpoint {
  units: number;
  actions: number;
  events: number;
  ackAt: number;
  visibleAt: number | null;
}

/**
 * Every experiment gets `units` units, each with one exposure and one metric event one second later,
 * sent in 1,000-event batches (4 at a time) that mix experiments; after each batch's ack every
 * experiment it touched gets a checkpoint (its cumulative units and metric events).
 */
async function sendEvents(base: string, sdkKey: string, experiments: BenchExperiment[], totalEvents: number): Promise<{ checkpoints: Map<string, Checkpoint[]>; sendMs: number; sent: number }> {
  const unitsPer = Math.max(1, Math.floor(totalEvents / 2 / experiments.length));
  const checkpoints = new Map<string, Checkpoint[]>(experiments.map((e) => [e.key, []]));
  const cum = new Map<string, { units: number; actions: number }>(experiments.map((e) => [e.key, { units: 0, actions: 0 }]));
  const ts = new Date(Date.now() - 1000).toISOString();
  const later = new Date(Date.now()).toISOString();
  // Round-robin over experiments so every batch touches many of them, as real traffic does.
  function* events(): Generator<{ event: Record<string, unknown>; experiment: string; kind: 'exposure' | 'metric' }> {
    for (let u = 0; u < unitsPer; u++) {
      for (const e of experiments) {
        const unitId = `${e.key}-u${u}`;
        yield { event: { id: randomUUID(), type: 'exposure', unitId, experiment: e.key, variant: variantOf(e, unitId), timestamp: ts }, experiment: e.key, kind: 'exposure' };
        yield { event: { id: randomUUID(), type: 'metric', unitId, name: METRIC, value: 1, timestamp: later }, experiment: e.key, kind: 'metric' };
      }
    }
  }
  const gen = events();
  let sent = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const batch: { event: Record<string, unknown>; experiment: string; kind: 'exposure' | 'metric' }[] = [];
      for (let r = gen.next(); !r.done; r = gen.next()) {
        batch.push(r.value);
        if (batch.length === BATCH) break;
      }
      if (batch.length === 0) return;
      const res = await call<{ accepted?: number; rejected?: unknown[] }>(base, sdkKey, 'POST', '/v1/events', { events: batch.map((b) => b.event) });
      if (Array.isArray(res.body.rejected) && res.body.rejected.length) throw new Error(`events rejected: ${JSON.stringify(res.body.rejected.slice(0, 3))}`);
      const ackAt = performance.now();
      const touched = new Map<string, number>();
      for (const b of batch) {
        const c = cum.get(b.experiment);
        if (!c) continue;
        if (b.kind === 'exposure') c.units++;
        else c.actions++;
        touched.set(b.experiment, (touched.get(b.experiment) ?? 0) + 1);
      }
      for (const [key, n] of touched) {
        const c = cum.get(key);
        if (c) checkpoints.get(key)?.push({ units: c.units, actions: c.actions, events: n, ackAt, visibleAt: null });
      }
      sent += batch.length;
    }
  };
  await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker));
  return { checkpoints, sendMs: performance.now() - start, sent };
}

/** Polls each experiment's results (4 at a time, round-robin over those not yet current) until every checkpoint is visible. */
async function waitVisible(base: string, checkpoints: Map<string, Checkpoint[]>, timeoutMs: number): Promise<{ lags: { ms: number; events: number }[]; invisible: number; readMs: number[] }> {
  const pending = [...checkpoints.keys()];
  const deadline = performance.now() + timeoutMs;
  const readMs: number[] = [];
  while (pending.length && performance.now() < deadline) {
    const round = [...pending];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < round.length && performance.now() < deadline) {
        const key = round[next++];
        const t = performance.now();
        const r = await call<ExperimentResultsDto>(base, ADMIN_KEY, 'GET', `/v1/experiments/${key}/results`);
        const seenAt = performance.now();
        readMs.push(seenAt - t);
        const units = r.body.totalUnits;
        const actions = (r.body.metrics.find((m) => m.metric === METRIC)?.variants ?? []).reduce((s, v) => s + v.sum, 0);
        const cps = checkpoints.get(key) ?? [];
        for (const cp of cps) if (cp.visibleAt === null && cp.units <= units && cp.actions <= actions) cp.visibleAt = seenAt;
        if (cps.every((cp) => cp.visibleAt !== null)) pending.splice(pending.indexOf(key), 1);
      }
    };
    await Promise.all(Array.from({ length: POLL_CONCURRENCY }, worker));
    if (pending.length) await sleep(250);
  }
  const lags: { ms: number; events: number }[] = [];
  let invisible = 0;
  for (const cps of checkpoints.values()) {
    for (const cp of cps) {
      if (cp.visibleAt === null) invisible += cp.events;
      else lags.push({ ms: cp.visibleAt - cp.ackAt, events: cp.events });
    }
  }
  return { lags, invisible, readMs };
}

/** Event-weighted percentile of the lags. */
function weightedPct(lags: { ms: number; events: number }[], p: number): number {
  const sorted = [...lags].sort((a, b) => a.ms - b.ms);
  const total = sorted.reduce((s, l) => s + l.events, 0);
  let acc = 0;
  for (const l of sorted) {
    acc += l.events;
    if (acc >= (p / 100) * total) return l.ms;
  }
  return NaN;
}

async function listPage(base: string): Promise<{ ms: number[]; requests: number; mode: string }> {
  const ms: number[] = [];
  let requests = 0;
  let mode = 'list + summaries';
  for (let i = 0; i < 20; i++) {
    requests = 0;
    ms.push(
      await timed(async () => {
        const list = await call<Page<ExperimentDto>>(base, ADMIN_KEY, 'GET', '/v1/experiments?limit=25&offset=0');
        requests++;
        const keys = list.body.items.map((e) => e.key);
        const summaries = await call(base, ADMIN_KEY, 'GET', `/v1/experiments/summaries?keys=${keys.join(',')}`);
        requests++;
        if (summaries.status === 404) {
          // No summaries endpoint yet: what the list page did before it, one results request per running row.
          mode = 'list + one results request per row (no summaries endpoint)';
          await Promise.all(list.body.items.filter((e) => e.status === 'running').map((e) => call(base, ADMIN_KEY, 'GET', `/v1/experiments/${e.key}/results`)));
          requests += list.body.items.filter((e) => e.status === 'running').length;
        }
      }),
    );
  }
  return { ms: sortNum(ms), requests, mode };
}

async function payloadSizes(base: string, sdkKey: string, expected: number): Promise<{ assign: number; assignGzip: number; config: number; configGzip: number; experiments: number }> {
  // The snapshot follows changes asynchronously: wait (≤ 10 s) until it holds every experiment.
  let config = await call<{ experiments: unknown[] }>(base, sdkKey, 'GET', '/v1/sdk/config');
  for (let i = 0; i < 100 && config.body.experiments.length < expected; i++) {
    await sleep(100);
    config = await call<{ experiments: unknown[] }>(base, sdkKey, 'GET', '/v1/sdk/config');
  }
  const assign = await call<unknown>(base, sdkKey, 'POST', '/v1/assign', { unitId: 'bench-size-unit', attributes: {} });
  return {
    assign: assign.bytes,
    assignGzip: gzipSync(assign.text).length,
    config: config.bytes,
    configGzip: gzipSync(config.text).length,
    experiments: config.body.experiments.length,
  };
}

/**
 * One experiment of 1M units / 10M events through the API (a layer of its own, 100 % traffic),
 * then 10,000 new events and the first results read after their ack, and how long until the
 * results include them. Sent through HTTP like everything else, so it measures any engine.
 */
async function large(base: string, sdkKey: string): Promise<void> {
  const layer = 'large-layer';
  const key = 'large-exp';
  await call(base, ADMIN_KEY, 'POST', '/v1/layers', { key: layer, name: layer });
  await call(base, ADMIN_KEY, 'POST', '/v1/experiments', { key, name: key, layer, traffic: 100, variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }], primaryMetric: METRIC });
  await call(base, ADMIN_KEY, 'POST', `/v1/experiments/${key}/start`, {});
  const e: BenchExperiment = { key, salt: key, variantKeys: ['control', 'treatment'], cumulative: Float64Array.from([0.5, 1]) };
  const units = LARGE_UNITS;
  const perUnit = 9; // + 1 exposure = 10 events per unit: 10M events at 1M units
  const ts = new Date(Date.now() - 1000).toISOString();
  const later = new Date().toISOString();
  let u = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (u < units) {
      const events: Record<string, unknown>[] = [];
      while (events.length + 1 + perUnit <= BATCH && u < units) {
        const unitId = `L-${u++}`;
        events.push({ id: randomUUID(), type: 'exposure', unitId, experiment: key, variant: variantOf(e, unitId), timestamp: ts });
        for (let k = 0; k < perUnit; k++) events.push({ id: randomUUID(), type: 'metric', unitId, name: METRIC, value: 1, timestamp: later });
      }
      await call(base, sdkKey, 'POST', '/v1/events', { events });
    }
  };
  await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker));
  console.log(`large: ${(units * (perUnit + 1)).toLocaleString('en')} events (${units.toLocaleString('en')} units) sent in ${fmt((performance.now() - t0) / 1000)} s`);
  /** Polls results until they include `actions` metric events: the wait, and how long the read that first showed them took. */
  const expect = async (actions: number): Promise<{ waitMs: number; readMs: number }> => {
    const start = performance.now();
    for (;;) {
      const t = performance.now();
      const r = await call<ExperimentResultsDto>(base, ADMIN_KEY, 'GET', `/v1/experiments/${key}/results`);
      const readMs = performance.now() - t;
      const sum = (r.body.metrics.find((m) => m.metric === METRIC)?.variants ?? []).reduce((s, v) => s + v.sum, 0);
      if (sum >= actions) return { waitMs: performance.now() - start, readMs };
      if (performance.now() - start > TIMEOUT_S * 1000) throw new Error(`large: results show ${sum} of ${actions} events after ${TIMEOUT_S} s`);
      await sleep(1000);
    }
  };
  const loaded = await expect(units * perUnit);
  console.log(`large: results include all ${(units * perUnit).toLocaleString('en')} metric events ${fmt(loaded.waitMs / 1000)} s after the last ack (that read ${fmt(loaded.readMs, 0)} ms)`);
  const extra: Record<string, unknown>[] = [];
  for (let i = 0; i < 10_000; i++) extra.push({ id: randomUUID(), type: 'metric', unitId: `L-${(i * 97) % units}`, name: METRIC, value: 1, timestamp: new Date().toISOString() });
  for (let i = 0; i < extra.length; i += BATCH) await call(base, sdkKey, 'POST', '/v1/events', { events: extra.slice(i, i + BATCH) });
  const fresh = await expect(units * perUnit + 10_000);
  const next = await timed(() => call(base, ADMIN_KEY, 'GET', `/v1/experiments/${key}/results`));
  console.log(`large: after 10,000 new events, the first results read that includes them took ${fmt(fresh.readMs, 0)} ms (visible ${fmt(fresh.waitMs / 1000)} s after the ack); the next read ${fmt(next, 0)} ms`);
}

async function main(): Promise<void> {
  const count = LAYERS * PER_LAYER;
  console.log(`scale: ${LAYERS} layers × ${PER_LAYER} running experiments = ${count}, ${EVENTS.toLocaleString('en')} events${LARGE ? `, plus one experiment of ${(LARGE_UNITS * 10).toLocaleString('en')} events / ${LARGE_UNITS.toLocaleString('en')} units` : ''}`);
  const api = await startApi();
  try {
    const sdk = await call<{ secret: string }>(api.base, ADMIN_KEY, 'POST', '/v1/api-keys', { name: 'bench', type: 'sdk-server' });
    const sdkKey = sdk.body.secret;

    const t0 = performance.now();
    const { experiments, createStartMs, cpuMsFirst, cpuMsLast } = await createAndStart(api.base, LAYERS, PER_LAYER, api.child.pid ?? 0);
    const tenth = Math.max(1, Math.floor(count / 10));
    const first = sortNum(createStartMs.slice(0, tenth));
    const last = sortNum(createStartMs.slice(-tenth));
    console.log(`built in ${fmt((performance.now() - t0) / 1000)} s`);
    console.log(`create + start, first 10 % (${first.length}): p50 ${fmt(pct(first, 50))} ms, p95 ${fmt(pct(first, 95))} ms; API + PostgreSQL CPU ${fmt(cpuMsFirst)} ms each`);
    console.log(
      `create + start, last 10 %  (${last.length}): p50 ${fmt(pct(last, 50))} ms, p95 ${fmt(pct(last, 95))} ms; API + PostgreSQL CPU ${fmt(cpuMsLast)} ms each` +
        `  (last/first: p95 ×${fmt(pct(last, 95) / pct(first, 95), 2)}, CPU ×${fmt(cpuMsLast / cpuMsFirst, 2)})`,
    );

    const sizes = await payloadSizes(api.base, sdkKey, count);
    console.log(`payloads at ${sizes.experiments} experiments in the snapshot: /v1/assign reply ${sizes.assign.toLocaleString('en')} B (gzip ${sizes.assignGzip.toLocaleString('en')} B); /v1/sdk/config ${sizes.config.toLocaleString('en')} B (gzip ${sizes.configGzip.toLocaleString('en')} B)`);

    if (EVENTS > 0) {
      const { checkpoints, sendMs, sent } = await sendEvents(api.base, sdkKey, experiments, EVENTS);
      console.log(`sent ${sent.toLocaleString('en')} events in ${fmt(sendMs / 1000)} s (${Math.round(sent / (sendMs / 1000)).toLocaleString('en')} events/s)`);
      const { lags, invisible, readMs } = await waitVisible(api.base, checkpoints, TIMEOUT_S * 1000);
      const sortedReads = sortNum(readMs);
      console.log(
        `ack → visible in results: p95 ${fmt(weightedPct(lags, 95) / 1000)} s, max ${fmt(lags.reduce((m, l) => Math.max(m, l.ms), 0) / 1000)} s` +
          `${invisible ? `; ${invisible.toLocaleString('en')} events NOT visible after ${TIMEOUT_S} s` : ''} (${readMs.length} results reads while polling, p50 ${fmt(pct(sortedReads, 50), 0)} ms)`,
      );
    }

    const pid = api.child.pid ?? 0;
    const before = treeTicks(pid);
    const idleStart = performance.now();
    await sleep(IDLE_S * 1000);
    const idleCpu = (treeTicks(pid) - before) / CLK_TCK / ((performance.now() - idleStart) / 1000);
    console.log(`idle CPU (node + postgres, ${IDLE_S} s, nothing arriving): ${fmt(idleCpu * 100)} % of one core`);

    const small = experiments[0]?.key;
    if (small) {
      await call(api.base, ADMIN_KEY, 'GET', `/v1/experiments/${small}/results`);
      const reads: number[] = [];
      for (let i = 0; i < 200; i++) reads.push(await timed(() => call(api.base, ADMIN_KEY, 'GET', `/v1/experiments/${small}/results`)));
      const s = sortNum(reads);
      console.log(`GET /v1/experiments/${small}/results ×200 (${Math.floor(EVENTS / 2 / count)} units): p50 ${fmt(pct(s, 50))} ms, p99 ${fmt(pct(s, 99))} ms`);
    }

    const list = await listPage(api.base);
    console.log(`list page (${list.mode}, ${list.requests} requests) ×20: p50 ${fmt(pct(list.ms, 50))} ms, p95 ${fmt(pct(list.ms, 95))} ms`);

    if (LARGE) await large(api.base, sdkKey);
  } finally {
    await api.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
