import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigChangeFeed } from '../../src/database/config-change-feed';
import { WebhookService } from '../../src/modules/guardrail/webhook.service';
import { MetricsServer } from '../../src/modules/telemetry/metrics-server';
import { createMetric, isoAgo, startExperiment } from '../helpers/analysis-fixtures';
import { parseProm, promParserMissing, sample, type PromFamily } from '../helpers/prometheus';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/** Prometheus metrics: the exposition parses with an independent parser and its counters move with traffic. */

let t: TestApp;
let base: string;
let sdkKey: string;

async function scrape(url = `${base}/v1/system/metrics`, key: string | null = TEST_ADMIN_KEY): Promise<Map<string, PromFamily>> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parseProm(await res.text());
  // No NaN in our own series (a value not known yet is an absent series). prom-client's event-loop
  // lag statistics are NaN until its first sampling interval has passed: valid in the format, and not ours.
  const odd = [...families.values()].flatMap((f) => f.samples.filter((s) => typeof s.value === 'string' && !s.name.startsWith('strata_nodejs_eventloop_lag')).map((s) => `${s.name}${JSON.stringify(s.labels)}=${s.value}`));
  expect(odd).toEqual([]);
  return families;
}

const missing = promParserMissing();
if (missing) {
  // Loud, and a failure in CI: never a silent skip.
  console.warn(`\n*** metrics.integration-spec: ${missing}\n`);
  if (process.env.CI) throw new Error(missing);
}

beforeAll(async () => {
  t = await createTestApp({ STRATA_METRICS_PORT: '0' });
  base = await t.listen();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'buy', type: 'conversion', eventName: 'buy' });
  await startExperiment(t, { key: 'prom-exp', primary: 'buy' });
});
afterAll(async () => {
  await t?.close();
});

describe.skipIf(missing !== null && !process.env.CI)('GET /v1/system/metrics', () => {
  it("leaves /metrics on the API port to the dashboard's metrics page", async () => {
    const res = await fetch(`${base}/metrics`, { headers: { accept: 'text/html' } });
    expect(res.status).not.toBe(401);
    expect(await res.text()).not.toMatch(/^# HELP/m);
  });

  it('needs an admin key (401 without a key, 403 with an SDK key)', async () => {
    expect((await fetch(`${base}/v1/system/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/v1/system/metrics`, { headers: { authorization: `Bearer ${sdkKey}` } })).status).toBe(403);
  });

  it('counts requests per route template, events accepted and rejected by reason, and writer batches', async () => {
    const before = await scrape();
    // Families by name (counters without _total): what a scrape sees, with their types.
    expect(before.get('strata_http_request_duration_seconds')?.type).toBe('histogram');
    expect(before.get('strata_events_accepted')?.type).toBe('counter');
    expect(before.get('strata_writer_batch_rows')?.type).toBe('histogram');
    expect(before.get('strata_writer_queue_events')?.type).toBe('gauge');
    expect(before.get('strata_process_cpu_seconds')?.type).toBe('counter');
    expect(before.get('strata_config_behind')?.type).toBe('gauge');

    // 7 assignments through the fast route (a real socket: Node answers them before Fastify).
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${base}/v1/assign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ unitId: `u-${i}` }),
      });
      expect(res.status).toBe(200);
    }
    // 3 results reads: one route template, whatever the key in the URL.
    for (let i = 0; i < 3; i++) expect((await t.admin('GET', '/v1/experiments/prom-exp/results')).status).toBe(200);
    // 5 events stored, 2 rejected as unknown experiment, in one batch.
    const events = [
      ...Array.from({ length: 5 }, (_, i) => ({ id: randomUUID(), type: 'metric', unitId: `u-${i}`, name: 'buy', value: 1, timestamp: isoAgo(1000) })),
      ...Array.from({ length: 2 }, (_, i) => ({ id: randomUUID(), type: 'exposure', unitId: `x-${i}`, experiment: 'no-such-experiment', variant: 'control', timestamp: isoAgo(1000) })),
    ];
    const sent = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(sent.status).toBe(202);

    // A configuration change reaches this process's feed and its gauge.
    const version = sample(before, 'strata_config_version');
    expect((await t.admin('POST', '/v1/layers', { key: 'prom-extra', name: 'extra' })).status).toBe(201);
    await expect.poll(() => t.app.get(ConfigChangeFeed).status().version, { timeout: 5000, interval: 20 }).toBeGreaterThan(version);
    const after = await scrape();
    expect(sample(after, 'strata_config_version')).toBeGreaterThan(version);
    expect(sample(after, 'strata_config_behind')).toBe(0);
    const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('strata_http_request_duration_seconds_count', { method: 'POST', route: '/v1/assign', status: '2xx' })).toBe(7);
    expect(delta('strata_http_request_duration_seconds_count', { method: 'GET', route: '/v1/experiments/:key/results', status: '2xx' })).toBe(3);
    expect(delta('strata_events_accepted_total')).toBe(5);
    expect(delta('strata_events_rejected_total', { reason: 'unknown_experiment' })).toBe(2);
    expect(delta('strata_writer_batch_rows_count')).toBeGreaterThanOrEqual(1);
    expect(delta('strata_writer_batch_rows_sum')).toBe(5);
    expect(delta('strata_writer_rows_total')).toBe(5);
    // Each results read first runs the engine's catch-up tick: ticks are timed, the data time is known.
    expect(delta('strata_analysis_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(after.get('strata_analysis_watermark_age_seconds')?.samples[0]?.value).toBeGreaterThanOrEqual(0);
    // The label set is templates only: no URL with a key in it.
    const routes = new Set(after.get('strata_http_request_duration_seconds')?.samples.map((s) => s.labels.route));
    expect(routes.has('/v1/assign')).toBe(true);
    expect([...routes].filter((r) => r.includes('prom-exp'))).toEqual([]);
  });

  it('counts guardrail actions (auto-stops and alerts), with or without a webhook URL', async () => {
    const before = await scrape();
    const webhook = t.app.get(WebhookService);
    const notice = { experiment: 'prom-exp', reason: 'test', findings: [], at: new Date().toISOString() };
    await webhook.notify({ type: 'experiment.auto_stopped', ...notice });
    await webhook.notify({ type: 'experiment.alert', ...notice });
    await webhook.notify({ type: 'experiment.alert', ...notice });
    const after = await scrape();
    const delta = (action: string): number => sample(after, 'strata_guardrail_actions_total', { action }) - sample(before, 'strata_guardrail_actions_total', { action });
    expect(delta('auto_stop')).toBe(1);
    expect(delta('alert')).toBe(2);
  });

  it('is also served without a key on STRATA_METRICS_PORT, and only GET /metrics there', async () => {
    const port = t.app.get(MetricsServer).port;
    expect(port).toBeGreaterThan(0);
    const families = await scrape(`http://127.0.0.1:${port}/metrics`, null);
    expect(families.get('strata_events_accepted')?.type).toBe('counter');
    expect((await fetch(`http://127.0.0.1:${port}/v1/experiments`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
