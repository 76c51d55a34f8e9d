import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { WebhookService } from '../../src/modules/guardrail/webhook.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The engine at many experiments: one tick (one transaction) advances every experiment a batch
 * of events touches, an idle tick writes nothing, and a guardrail harm sent through the HTTP API
 * stops its experiment within two ticks of the job, with the audit entry and the webhook.
 */

const EXPERIMENTS = 300;
const UNITS = 10;
const ENGINE_TABLES = ['analysis_engine_state', 'analysis_watermarks', 'analysis_stats', 'analysis_units', 'analysis_caps', 'unit_metric_rollups', 'unit_metric_daily'];

/** A fingerprint of every row version of the engine's tables: any insert, update or delete changes it. */
async function rowVersions(t: TestApp): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ENGINE_TABLES) {
    const rows: { v: string | null; n: number }[] = await t.dataSource.query(`SELECT md5(string_agg(xmin::text || ctid::text, ',' ORDER BY ctid)) AS v, count(*)::int AS n FROM ${table}`);
    out[table] = `${rows[0].n}:${rows[0].v ?? ''}`;
  }
  return out;
}

describe('one tick for hundreds of experiments', () => {
  let t: TestApp;
  let sdkKey: string;
  const keys = Array.from({ length: EXPERIMENTS }, (_, i) => `scale-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
    sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
    await createMetric(t, { key: 'scale_conv', type: 'conversion', eventName: 'scale_buy', cupedLookbackDays: 0 });
    for (let i = 0; i < keys.length; i += 10) await Promise.all(keys.slice(i, i + 10).map((key) => startExperiment(t, { key, primary: 'scale_conv' })));
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  it('advances all 300 experiments in one tick, then an idle tick writes nothing', async () => {
    const engine = t.app.get(AnalysisEngineService);
    const built = await engine.tick();
    expect(built.rebuilt).toHaveLength(EXPERIMENTS);

    // The same ten units are exposed to every experiment; one metric event each for half of them
    // counts in all 300 experiments at once.
    const units = Array.from({ length: UNITS }, (_, i) => `scale-u${i}`);
    const events: SentEvent[] = [];
    for (const key of keys) {
      const variants = await assignedVariants(t, sdkKey, key, units);
      for (const u of units) events.push({ type: 'exposure', unitId: u, experiment: key, variant: variants.get(u), timestamp: isoAgo(120_000) });
    }
    for (const u of units.slice(0, UNITS / 2)) events.push({ type: 'metric', unitId: u, name: 'scale_buy', timestamp: isoAgo(60_000) });
    await sendEvents(t, sdkKey, events);

    const tick = await engine.tick();
    expect(tick.worked).toBe(true);
    expect(tick.changed).toEqual(keys);
    expect(tick.rebuilt).toEqual([]);
    // One transaction wrote every experiment's state (one xmin), at one watermark.
    const state: { versions: number; watermarks: number; n: number }[] = await t.dataSource.query(
      `SELECT count(DISTINCT xmin::text)::int AS versions, count(DISTINCT watermark)::int AS watermarks, count(*)::int AS n
         FROM analysis_watermarks WHERE experiment_key LIKE 'scale-%'`,
    );
    expect(state[0]).toEqual({ versions: 1, watermarks: 1, n: EXPERIMENTS });
    const stats: { experiment_key: string; n: string; sum: string }[] = await t.dataSource.query(
      `SELECT experiment_key, sum(n)::text AS n, sum(sum)::text AS sum FROM analysis_stats
        WHERE dim = '' AND metric_key = 'scale_conv' GROUP BY experiment_key ORDER BY experiment_key`,
    );
    expect(stats).toHaveLength(EXPERIMENTS);
    for (const s of stats) expect([s.n, s.sum], s.experiment_key).toEqual([String(UNITS), String(UNITS / 2)]);
    const results = await t.admin('GET', `/v1/experiments/${keys[137]}/results`);
    expect(results.body.totalUnits).toBe(UNITS);
    expect(results.body.metrics[0].variants.reduce((a: number, v: { sum: number }) => a + v.sum, 0)).toBe(UNITS / 2);

    // Nothing new: the tick only probes, and no row of the engine's tables gets a new version.
    const before = await rowVersions(t);
    const idle = await engine.tick();
    expect(idle.worked).toBe(false);
    expect(idle.changed).toEqual([]);
    expect(await rowVersions(t)).toEqual(before);
    // Results reads of any experiment are keyed reads after an idle catch-up: still nothing written.
    await t.admin('GET', `/v1/experiments/${keys[3]}/results`);
    await t.admin('GET', `/v1/experiments/${keys[3]}/results/timeseries`);
    const summaries = await t.admin('GET', `/v1/experiments/summaries?keys=${keys.slice(0, 25).join(',')}`);
    expect(summaries.status).toBe(200);
    expect(summaries.body).toHaveLength(25);
    expect(await rowVersions(t)).toEqual(before);
  }, 300_000);
});

describe('guardrails every tick', () => {
  let t: TestApp;
  let sdkKey: string;
  let receiver: Server;
  const notices: { type: string; experiment: string; reason: string }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notices.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as AddressInfo).port;
    // The job runs (1 s ticks); the interval sweep is an hour away, so only the tick consumer can stop it.
    t = await createTestApp({
      STRATA_DISABLE_JOBS: 'false',
      STRATA_ANALYSIS_TICK_SECONDS: '1',
      STRATA_ROLLUP_LAG_MS: '0',
      STRATA_GUARDRAIL_INTERVAL_SECONDS: '3600',
      STRATA_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
    });
    t.app.get(WebhookService).backoffMs = 20;
    sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
    await createMetric(t, { key: 'g_signup', type: 'conversion', eventName: 'g_signup', cupedLookbackDays: 0 });
    await createMetric(t, { key: 'g_error', type: 'conversion', eventName: 'g_error', direction: 'decrease', cupedLookbackDays: 0 });
    await startExperiment(t, { key: 'harmful', primary: 'g_signup', guardrails: ['g_error'], autoStop: true });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('stops an experiment whose guardrail shows harm within two ticks, with audit entry and webhook', async () => {
    const rng = createRng(808);
    const units = Array.from({ length: 4000 }, (_, i) => `harm-u${i}`);
    const variants = await assignedVariants(t, sdkKey, 'harmful', units);
    const events: SentEvent[] = [];
    for (const u of units) {
      const v = variants.get(u) as string;
      events.push({ type: 'exposure', unitId: u, experiment: 'harmful', variant: v, timestamp: isoAgo(120_000) });
      if (rng.uniform() < (v === 'treatment' ? 0.15 : 0.05)) events.push({ type: 'metric', unitId: u, name: 'g_error', timestamp: isoAgo(60_000) });
    }
    const ticks = async () => Number((await t.dataSource.query('SELECT ticks FROM analysis_engine_state WHERE shard = 0'))[0]?.ticks ?? 0);
    // Through POST /v1/events (batches of 1,000); the evidence is complete once the last one is acknowledged.
    await sendEvents(t, sdkKey, events);
    const acknowledged = await ticks();
    let status = 'running';
    const deadline = Date.now() + 30_000;
    while (status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await t.admin('GET', '/v1/experiments/harmful')).body.status;
    }
    expect(status).toBe('stopped');
    expect((await ticks()) - acknowledged).toBeLessThanOrEqual(2);
    const audit = await t.admin('GET', '/v1/audit?entityKey=harmful&limit=50');
    const actions = audit.body.items.map((i: { action: string }) => i.action);
    expect(actions).toContain('experiment.auto_stop');
    await expect.poll(() => notices.find((n) => n.type === 'experiment.auto_stopped')?.experiment ?? null, { timeout: 10_000 }).toBe('harmful');
    const finding = (await t.admin('GET', '/v1/audit?entityKey=harmful&limit=50')).body.items.find((i: { action: string }) => i.action === 'experiment.guardrail_finding');
    expect(finding.after.findings[0].kind).toBe('guardrail_harm');
    expect(finding.after.findings[0].details.harmCi[0]).toBeGreaterThan(0);
  }, 120_000);
});
