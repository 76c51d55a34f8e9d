import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng } from '@strata/stats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { GuardrailService } from '../../src/modules/guardrail/guardrail.service';
import { WebhookService } from '../../src/modules/guardrail/webhook.service';
import { RESULT_COLUMNS } from '../../src/modules/export/export.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * End to end on real PostgreSQL, every event sent through POST /v1/events with an SDK key in
 * batches of 1,000, exposures with the variant the API assigns. Seeded PRNGs: deterministic.
 */

let t: TestApp;
let sdkKey: string;
let receiver: Server;
const notices: any[] = [];
let webhookCalls = 0;

/** Exposes `n` units; converts each with probability `rate(variant)`; `keep` drops some exposures (SRM). */
async function seed(key: string, n: number, seedValue: number, event: string, rate: (variant: string) => number, keep: (variant: string, u: number) => boolean = () => true): Promise<Map<string, string>> {
  const rng = createRng(seedValue);
  const unitIds = Array.from({ length: n }, (_, i) => `${key}-u${i}`);
  const variants = await assignedVariants(t, sdkKey, key, unitIds);
  const now = Date.now();
  const events: SentEvent[] = [];
  for (const unitId of unitIds) {
    const variant = variants.get(unitId) as string;
    if (!keep(variant, rng.uniform())) {
      variants.delete(unitId);
      continue;
    }
    events.push({ type: 'exposure', unitId, experiment: key, variant, timestamp: isoAgo(120_000, now), attributes: { country: rng.uniform() < 0.5 ? 'US' : 'DE' } });
    if (rng.uniform() < rate(variant)) events.push({ type: 'metric', unitId, name: event, timestamp: isoAgo(60_000, now) });
  }
  await sendEvents(t, sdkKey, events);
  return variants;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      webhookCalls++;
      // The first delivery fails: the notice must arrive through a retry.
      if (webhookCalls === 1) {
        res.writeHead(500).end();
        return;
      }
      notices.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as AddressInfo).port;
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0', STRATA_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` });
  t.app.get(WebhookService).backoffMs = 20;
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'signup', type: 'conversion', eventName: 'signup', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'error_rate', type: 'conversion', eventName: 'error', direction: 'decrease', harmThreshold: 0.05, cupedLookbackDays: 0 });
  await startExperiment(t, { key: 'effect', primary: 'signup', plannedSampleSize: 25_000 });
  await startExperiment(t, { key: 'aa', primary: 'signup' });
  await startExperiment(t, { key: 'srm', primary: 'signup' });
  await startExperiment(t, { key: 'guard-stop', primary: 'signup', guardrails: ['error_rate'], autoStop: true });
  await startExperiment(t, { key: 'guard-alert', primary: 'signup', guardrails: ['error_rate'], autoStop: false });
}, 180_000);
afterAll(async () => {
  await t?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('analysis end to end', () => {
  it('detects a true +10% relative effect (11% vs 10%, 50,000 units) with the right sign and a CI covering it', async () => {
    await seed('effect', 50_000, 11, 'signup', (v) => (v === 'treatment' ? 0.11 : 0.1));
    const res = await t.admin('GET', '/v1/experiments/effect/results');
    expect(res.status).toBe(200);
    expect(res.body.totalUnits).toBe(50_000);
    const tr = res.body.metrics[0].variants.find((v: any) => v.variant === 'treatment');
    const fixedAbs = tr.absolute.fixed;
    expect(fixedAbs.method).toBe('two-proportion-z');
    expect(fixedAbs.estimate).toBeGreaterThan(0);
    expect(fixedAbs.significant).toBe(true);
    expect(fixedAbs.ci[0]).toBeLessThan(0.01);
    expect(fixedAbs.ci[1]).toBeGreaterThan(0.01);
    const seqRel = tr.relative.sequential;
    expect(seqRel.ci[0]).toBeGreaterThan(0);
    expect(seqRel.ci[0]).toBeLessThan(0.1);
    expect(seqRel.ci[1]).toBeGreaterThan(0.1);
    expect(tr.msprt.pValue).toBeLessThan(0.05);
    expect(res.body.srm.flagged).toBe(false);
    expect(res.body.decision.hint).toBe('ship');
    expect(res.body.sequential.params.plannedSampleSize).toBe(25_000);
    expect(Date.parse(res.body.dataThrough)).toBeLessThanOrEqual(Date.now());
  });

  it('finds nothing in an A/A experiment', async () => {
    await seed('aa', 20_000, 22, 'signup', () => 0.1);
    const res = await t.admin('GET', '/v1/experiments/aa/results');
    const tr = res.body.metrics[0].variants[1];
    expect(tr.absolute.fixed.pValue).toBeGreaterThan(0.05);
    expect(tr.absolute.fixed.significant).toBe(false);
    expect(tr.relative.sequential.significant).toBe(false);
    expect(tr.relative.sequential.ci[0]).toBeLessThan(0);
    expect(tr.relative.sequential.ci[1]).toBeGreaterThan(0);
    expect(res.body.srm.flagged).toBe(false);
    expect(['keep_running', 'inconclusive']).toContain(res.body.decision.hint);
  });

  it('flags a 55/45 split on 50/50 weights as a sample ratio mismatch', async () => {
    // Drop 18% of control units' exposures: about 4,100 control vs 5,000 treatment.
    const kept = await seed('srm', 10_000, 33, 'signup', () => 0.1, (v, u) => v !== 'control' || u >= 0.18);
    const res = await t.admin('GET', '/v1/experiments/srm/results');
    const counts = res.body.srm.counts;
    expect(counts.control + counts.treatment).toBe(kept.size);
    expect(counts.treatment / (counts.control + counts.treatment)).toBeGreaterThan(0.53);
    expect(res.body.srm.pValue).toBeLessThan(0.001);
    expect(res.body.srm.flagged).toBe(true);
    expect(res.body.decision.hint).toBe('inconclusive');
    expect(res.body.decision.reason).toMatch(/Sample ratio mismatch/);
  });

  it('auto-stops on guardrail harm: stops assignment, audits the numbers and calls the webhook (with a retry); alerts once when auto-stop is off', async () => {
    const harm = (v: string) => (v === 'treatment' ? 0.15 : 0.05);
    await seed('guard-stop', 4000, 44, 'error', harm);
    await seed('guard-alert', 4000, 45, 'error', harm);
    const before = await t.admin('GET', '/v1/experiments/guard-stop/results');
    expect(before.body.guardrails).toHaveLength(1);
    expect(before.body.guardrails[0].status).toBe('harm');
    expect(before.body.guardrails[0].harmCi[0]).toBeGreaterThan(0);
    expect(before.body.decision.hint).toBe('stop_for_harm');

    // The guardrail check is a per-tick consumer: the tick that took the seeded events (run by the
    // results read above) already stopped guard-stop and alerted guard-alert and srm, right after it.
    await t.app.get(AnalysisEngineService).settled();
    const job = t.app.get(GuardrailService);
    const sweep = await job.runOnce();
    expect(sweep.stopped).toEqual([]);
    expect(sweep.alerted).toEqual([]);
    expect(sweep.checked).toBeGreaterThan(0);
    for (const key of ['guard-alert', 'srm']) expect((await t.admin('GET', `/v1/experiments/${key}`)).body.alerts.length, key).toBeGreaterThan(0);
    expect((await t.admin('GET', '/v1/experiments/aa')).body.alerts).toEqual([]);

    const stopped = await t.admin('GET', '/v1/experiments/guard-stop');
    expect(stopped.body.status).toBe('stopped');
    expect(stopped.body.stopReason).toMatch(/error_rate is worse in treatment by \d+\.\d+%/);
    const audit = await t.admin('GET', '/v1/audit?entityKey=guard-stop&limit=50');
    const actions = audit.body.items.map((i: any) => i.action);
    expect(actions).toContain('experiment.auto_stop');
    expect(actions).toContain('experiment.guardrail_finding');
    const finding = audit.body.items.find((i: any) => i.action === 'experiment.guardrail_finding');
    expect(finding.after.findings[0].details.harmCi[0]).toBeGreaterThan(0);

    // Assignment stops at once (within the snapshot refresh).
    let assigned = true;
    for (let i = 0; i < 50 && assigned; i++) {
      const a = await t.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: 'guard-stop-u1', experiments: ['guard-stop'] } });
      assigned = a.body.assignments.length > 0;
      if (assigned) await new Promise((r) => setTimeout(r, 100));
    }
    expect(assigned).toBe(false);

    expect(webhookCalls).toBeGreaterThanOrEqual(2);
    const stopNotice = notices.find((n) => n.type === 'experiment.auto_stopped');
    expect(stopNotice.experiment).toBe('guard-stop');
    expect(stopNotice.reason).toMatch(/error_rate/);

    const alerting = await t.admin('GET', '/v1/experiments/guard-alert');
    expect(alerting.body.status).toBe('running');
    const harmAlerts = alerting.body.alerts.filter((a: any) => a.kind === 'guardrail_harm');
    expect(harmAlerts).toHaveLength(1);
    expect(harmAlerts[0].details.harmCi[0]).toBeGreaterThan(0);
    const again = await job.runOnce();
    expect(again.alerted).toEqual([]);
    expect((await t.admin('GET', '/v1/experiments/guard-alert')).body.alerts).toHaveLength(alerting.body.alerts.length);
    expect((await t.admin('GET', '/v1/experiments/srm')).body.alerts).toHaveLength(1);
  });

  it('exports the results table as RFC 4180 CSV (BOM, CRLF, header) and as JSON', async () => {
    const csv = await t.request('GET', '/v1/experiments/effect/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="effect-results.csv"');
    expect(csv.text.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.text.slice(1).split('\r\n');
    expect(lines[0]).toBe(RESULT_COLUMNS.join(','));
    expect(lines.filter((l) => l.length > 0)).toHaveLength(3);
    expect(lines[2].startsWith('effect,')).toBe(true);
    const json = await t.request('GET', '/v1/experiments/effect/export?format=json');
    expect(json.body.rows).toHaveLength(2);
    expect(json.body.rows[1].units + json.body.rows[0].units).toBe(50_000);
    expect((await t.request('GET', '/v1/experiments/effect/export?format=xml')).status).toBe(400);
  });

  it('streams one row per unit as CSV and NDJSON', async () => {
    const csv = await t.request('GET', '/v1/experiments/srm/export/units?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="srm-units.csv"');
    const lines = csv.text.slice(1).split('\r\n').filter((l) => l.length > 0);
    expect(lines[0]).toBe('unit_id,variant,first_exposure_at,signup');
    const results = await t.admin('GET', '/v1/experiments/srm/results');
    expect(lines.length - 1).toBe(results.body.totalUnits);
    const converted = lines.slice(1).filter((l) => l.endsWith(',1')).length;
    expect(converted).toBe(results.body.metrics[0].variants.reduce((s: number, v: any) => s + v.sum, 0));
    const nd = await t.request('GET', '/v1/experiments/srm/export/units?format=ndjson');
    const rows = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(results.body.totalUnits);
    expect(Object.keys(rows[0])).toEqual(['unit_id', 'variant', 'first_exposure_at', 'signup']);
  });

  it('analyses the most extreme values the collector accepts without overflow (results, timeseries, export)', async () => {
    // ±1e15 and 1e-12 (the accepted bounds), ten events per unit: per-unit sums up to 1e16, squares of
    // 1e32, CUPED cross products likewise — far inside double precision. 1e200 is refused at ingest.
    await createMetric(t, { key: 'amount', type: 'mean', eventName: 'amount' });
    await startExperiment(t, { key: 'extreme', primary: 'amount' });
    const unitIds = Array.from({ length: 200 }, (_, i) => `extreme-u${i}`);
    const variants = await assignedVariants(t, sdkKey, 'extreme', unitIds);
    const now = Date.now();
    const values = [1e15, -1e15, 1e-12, -1e-12, 0];
    const events: SentEvent[] = [];
    unitIds.forEach((unitId, i) => {
      events.push({ type: 'exposure', unitId, experiment: 'extreme', variant: variants.get(unitId) as string, timestamp: isoAgo(120_000, now) });
      for (let k = 0; k < 10; k++) events.push({ type: 'metric', unitId, name: 'amount', value: values[(i + k) % values.length], timestamp: isoAgo(60_000, now) });
    });
    await sendEvents(t, sdkKey, events);
    const res = await t.admin('GET', '/v1/experiments/extreme/results');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.totalUnits).toBe(200);
    const timeseries = await t.admin('GET', '/v1/experiments/extreme/results/timeseries');
    expect(timeseries.status, JSON.stringify(timeseries.body)).toBe(200);
    expect((await t.request('GET', '/v1/experiments/extreme/export?format=json')).status).toBe(200);
    const refused = await t.request('POST', '/v1/events', { key: sdkKey, body: { events: [{ type: 'metric', unitId: 'extreme-u0', name: 'amount', value: 1e200 }] } });
    expect([refused.status, refused.body.accepted, refused.body.rejected[0]?.code]).toEqual([202, 0, 'invalid_event']);
  });

  it('answers 404 for an unknown experiment and 400 for a bad query', async () => {
    expect((await t.admin('GET', '/v1/experiments/nope/results')).status).toBe(404);
    expect((await t.admin('GET', '/v1/experiments/effect/results?correction=holm')).status).toBe(400);
    expect((await t.admin('GET', '/v1/experiments/effect/results?segment=a%20b')).status).toBe(400);
    expect((await t.request('GET', '/v1/experiments/effect/results', { key: sdkKey })).status).toBe(403);
  });
});
