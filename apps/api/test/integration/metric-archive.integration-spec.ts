import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { http, signIn } from '../helpers/people';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/**
 * POST /v1/metrics/:key/archive and /unarchive on real PostgreSQL: archived metrics leave the
 * default list, stay readable, cannot be newly referenced, and experiments measuring them keep
 * being analysed.
 */

let t: TestApp;
let sdkKey: string;

const keys = (body: { items: { key: string }[] }): string[] => body.items.map((m) => m.key);

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  await t.listen();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret;
  await createMetric(t, { key: 'buy', type: 'conversion', eventName: 'buy', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'views', type: 'count', eventName: 'view', cupedLookbackDays: 0 });
  await createMetric(t, { key: 'spare', type: 'count', eventName: 'spare' });
  await startExperiment(t, { key: 'arch-exp', primary: 'buy', secondary: ['views'] });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('archiving a metric', () => {
  it('hides it from the default list, keeps it readable and in the archived filters, and audits both ways', async () => {
    const archived = await t.admin('POST', '/v1/metrics/views/archive');
    expect(archived.status, JSON.stringify(archived.body)).toBe(200);
    expect(archived.body.key).toBe('views');
    expect(Date.parse(archived.body.archivedAt)).toBeGreaterThan(Date.now() - 60_000);

    expect(keys((await t.admin('GET', '/v1/metrics')).body)).toEqual(['buy', 'spare']);
    expect((await t.admin('GET', '/v1/metrics')).body.total).toBe(2);
    expect(keys((await t.admin('GET', '/v1/metrics?archived=only')).body)).toEqual(['views']);
    expect(keys((await t.admin('GET', '/v1/metrics?archived=include')).body)).toEqual(['buy', 'views', 'spare']);
    expect((await t.admin('GET', '/v1/metrics?archived=maybe')).status).toBe(400);
    const read = await t.admin('GET', '/v1/metrics/views');
    expect(read.status).toBe(200);
    expect(read.body.archivedAt).toBe(archived.body.archivedAt);
    expect((await t.admin('GET', '/v1/metrics/buy')).body.archivedAt).toBeNull();

    // Archiving again changes nothing and records nothing.
    const again = await t.admin('POST', '/v1/metrics/views/archive');
    expect(again.status).toBe(200);
    expect(again.body.archivedAt).toBe(archived.body.archivedAt);

    const restored = await t.admin('POST', '/v1/metrics/views/unarchive');
    expect(restored.status).toBe(200);
    expect(restored.body.archivedAt).toBeNull();
    expect(keys((await t.admin('GET', '/v1/metrics')).body)).toEqual(['buy', 'views', 'spare']);

    const audit = await t.admin('GET', '/v1/audit?entityType=metric&entityKey=views&limit=50');
    const entries = (audit.body.items as { action: string; before: { archivedAt: string | null }; after: { archivedAt: string | null } }[])
      .filter((e) => e.action.startsWith('metric.') && e.action !== 'metric.create')
      .map((e) => [e.action, e.before.archivedAt, e.after.archivedAt]);
    expect(entries).toEqual([
      ['metric.unarchive', archived.body.archivedAt, null],
      ['metric.archive', null, archived.body.archivedAt],
    ]);
    expect((await t.admin('POST', '/v1/metrics/nope/archive')).status).toBe(404);
  });

  it('lets experimenters and admins archive, not viewers', async () => {
    const viewer = await signIn(t, 'archive-viewer@example.com', 'viewer', TEST_ADMIN_KEY);
    const experimenter = await signIn(t, 'archive-experimenter@example.com', 'experimenter', TEST_ADMIN_KEY);
    expect((await http(t, 'POST', '/v1/metrics/spare/archive', { session: viewer })).status).toBe(403);
    expect((await t.admin('GET', '/v1/metrics/spare')).body.archivedAt).toBeNull();
    const res = await http(t, 'POST', '/v1/metrics/spare/archive', { session: experimenter });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.archivedAt).not.toBeNull();
    expect((await http(t, 'POST', '/v1/metrics/spare/unarchive', { session: viewer })).status).toBe(403);
    expect((await http(t, 'POST', '/v1/metrics/spare/unarchive', { session: experimenter })).body.archivedAt).toBeNull();
  });

  it('refuses an archived metric in a new experiment, keeps it on an experiment that already measures it', async () => {
    expect((await t.admin('POST', '/v1/metrics/spare/archive')).status).toBe(200);
    await t.admin('POST', '/v1/layers', { key: 'arch-layer', name: 'arch layer' });
    const draft = {
      key: 'arch-draft',
      name: 'Archive draft',
      layer: 'arch-layer',
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      traffic: 100,
      primaryMetric: 'buy',
      secondaryMetrics: ['spare'],
    };
    const refused = await t.admin('POST', '/v1/experiments', draft);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('validation_failed');
    expect(refused.body.error.details).toEqual([
      { path: 'secondaryMetrics.0', message: 'metric "spare" is archived; unarchive it to measure it in a new experiment' },
    ]);

    // Created while active, archived afterwards: saving the draft with its metrics unchanged still works.
    expect((await t.admin('POST', '/v1/metrics/spare/unarchive')).status).toBe(200);
    expect((await t.admin('POST', '/v1/experiments', draft)).status).toBe(201);
    expect((await t.admin('POST', '/v1/metrics/spare/archive')).status).toBe(200);
    const saved = await t.admin('PATCH', '/v1/experiments/arch-draft', {
      name: 'Archive draft 2',
      primaryMetric: 'buy',
      secondaryMetrics: ['spare'],
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.secondaryMetrics).toEqual(['spare']);
    // Another experiment may not start measuring it.
    expect((await t.admin('POST', '/v1/experiments', { ...draft, key: 'arch-draft-2', secondaryMetrics: [] })).status).toBe(201);
    const other = await t.admin('PATCH', '/v1/experiments/arch-draft-2', { guardrailMetrics: ['spare'] });
    expect(other.status).toBe(400);
    expect(other.body.error.details[0].path).toBe('guardrailMetrics.0');
  });

  it('keeps analysing a running experiment whose metrics were archived', async () => {
    expect((await t.admin('POST', '/v1/metrics/buy/archive')).status).toBe(200);
    // Saving the running experiment as the form does (its metrics resent unchanged) still works.
    const resaved = await t.admin('PATCH', '/v1/experiments/arch-exp', {
      name: 'Archive experiment',
      primaryMetric: 'buy',
      secondaryMetrics: ['views'],
    });
    expect(resaved.status, JSON.stringify(resaved.body)).toBe(200);
    const unitIds = Array.from({ length: 40 }, (_, i) => `arch-u${i}`);
    const variants = await assignedVariants(t, sdkKey, 'arch-exp', unitIds);
    expect(variants.size).toBe(40);
    const events: SentEvent[] = [];
    const buyers = new Map<string, number>();
    unitIds.forEach((unitId, i) => {
      const variant = variants.get(unitId) as string;
      events.push({ type: 'exposure', unitId, experiment: 'arch-exp', variant, timestamp: isoAgo(120_000) });
      if (i % 4 === 0) {
        events.push({ type: 'metric', unitId, name: 'buy', timestamp: isoAgo(60_000) });
        buyers.set(variant, (buyers.get(variant) ?? 0) + 1);
      }
    });
    await sendEvents(t, sdkKey, events);
    await t.app.get(AnalysisEngineService).catchUp();
    const results = await t.admin('GET', '/v1/experiments/arch-exp/results');
    expect(results.status, JSON.stringify(results.body)).toBe(200);
    const buy = (
      results.body.metrics as { metric: string; role: string; variants: { variant: string; units: number; sum: number }[] }[]
    ).find((m) => m.metric === 'buy');
    expect(buy?.role).toBe('primary');
    const units = new Map<string, number>();
    for (const v of variants.values()) units.set(v, (units.get(v) ?? 0) + 1);
    expect(Object.fromEntries((buy?.variants ?? []).map((v) => [v.variant, [v.units, v.sum]]))).toEqual(
      Object.fromEntries([...units].map(([v, n]) => [v, [n, buyers.get(v) ?? 0]])),
    );
  }, 60_000);
});
