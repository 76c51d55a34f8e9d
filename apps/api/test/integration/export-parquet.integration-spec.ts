import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignedVariants, createMetric, isoAgo, sendEvents, startExperiment, type SentEvent } from '../helpers/analysis-fixtures';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/**
 * Parquet exports read back with DuckDB, an independent reader (C++, its own Parquet decoder):
 * the same rows and numbers as the CSV/JSON exports, one row group per 10,000 rows.
 */

let t: TestApp;
let base: string;
let dir: string;
let duck: DuckDBConnection;
const UNITS = 240;

async function download(path: string, file: string): Promise<{ path: string; type: string | null }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  expect(res.status, path).toBe(200);
  const out = join(dir, file);
  writeFileSync(out, Buffer.from(await res.arrayBuffer()));
  return { path: out, type: res.headers.get('content-type') };
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** Plain CSV of the unit export (unit ids, variants and numbers: no quoting needed); BOM and CRLF stripped. */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.replace(/^\uFEFF/, '').trim().split('\r\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-parquet-'));
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  base = await t.listen();
  const sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk', type: 'sdk-server' })).body.secret as string;
  await createMetric(t, { key: 'purchase', type: 'conversion', eventName: 'purchase' });
  await createMetric(t, { key: 'spend', type: 'mean', eventName: 'spend' });
  await createMetric(t, { key: 'ctr', type: 'ratio', eventName: 'click', denominatorEventName: 'view' });
  await startExperiment(t, { key: 'pq', primary: 'purchase', secondary: ['spend', 'ctr'] });
  const units = Array.from({ length: UNITS }, (_, i) => `unit-${String(i).padStart(4, '0')}`);
  const variants = await assignedVariants(t, sdkKey, 'pq', units);
  const events: SentEvent[] = [];
  units.forEach((u, i) => {
    events.push({ type: 'exposure', unitId: u, experiment: 'pq', variant: variants.get(u) as string, timestamp: isoAgo(3_600_000) });
    if (i % 3 === 0) events.push({ type: 'metric', unitId: u, name: 'purchase', timestamp: isoAgo(1_800_000) });
    if (i % 4 === 0) events.push({ type: 'metric', unitId: u, name: 'spend', value: 1.25 * (i % 17) + 0.5, timestamp: isoAgo(1_800_000) });
    for (let k = 0; k < (i % 5); k++) events.push({ type: 'metric', unitId: u, name: 'view', timestamp: isoAgo(1_700_000) });
    if (i % 2 === 0) events.push({ type: 'metric', unitId: u, name: 'click', value: 1, timestamp: isoAgo(1_600_000) });
  });
  await sendEvents(t, sdkKey, events.map((e) => ({ ...e, id: randomUUID() }) as SentEvent));
  expect((await t.admin('GET', '/v1/experiments/pq/results')).body.totalUnits).toBe(UNITS);
}, 180_000);
afterAll(async () => {
  duck?.closeSync();
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Parquet exports', () => {
  it('unit export: the same units, variants, exposure times and values as the CSV export', async () => {
    const csvRes = await fetch(`${base}/v1/experiments/pq/export/units?format=csv`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    const csv = parseCsv(await csvRes.text());
    const pq = await download('/v1/experiments/pq/export/units?format=parquet', 'units.parquet');
    expect(pq.type).toBe('application/vnd.apache.parquet');
    const got = await rows(`SELECT * FROM read_parquet('${pq.path}') ORDER BY unit_id`);
    expect(got).toHaveLength(UNITS);
    expect(csv).toHaveLength(UNITS);
    const columns = Object.keys(csv[0]);
    expect(Object.keys(got[0])).toEqual(columns);
    got.forEach((row, i) => {
      const c = csv[i];
      expect(row.unit_id).toBe(c.unit_id);
      expect(row.variant).toBe(c.variant);
      expect((row.first_exposure_at as Date).toISOString()).toBe(new Date(c.first_exposure_at).toISOString());
      for (const col of columns.slice(3)) expect(row[col], `${c.unit_id}.${col}`).toBe(Number(c[col]));
    });
    // Types a reader sees: text, a timestamp, doubles.
    const schema = await rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${pq.path}'))`);
    expect(Object.fromEntries(schema.map((s) => [s.column_name, s.column_type]))).toMatchObject({
      unit_id: 'VARCHAR', variant: 'VARCHAR', first_exposure_at: 'TIMESTAMP', purchase: 'DOUBLE', spend: 'DOUBLE', ctr_numerator: 'DOUBLE', ctr_denominator: 'DOUBLE',
    });
    const meta = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${pq.path}')`);
    expect(meta.find((m) => m.k === 'strata.experiment')?.v).toBe('pq');
  });

  it("runs the README's DuckDB example on the exported file", async () => {
    const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
    const block = /```sql\n([\s\S]*?FROM 'units\.parquet'[\s\S]*?)```/.exec(readme);
    expect(block, 'README has a DuckDB example').not.toBeNull();
    const pq = await download('/v1/experiments/pq/export/units?format=parquet', 'units.parquet');
    const got = await rows((block as RegExpExecArray)[1].replace(/^--.*$/gm, '').replace("'units.parquet'", `'${pq.path}'`).replace(/;\s*$/, '') + ' ORDER BY variant');
    const results = (await t.admin('GET', '/v1/experiments/pq/results')).body as { metrics: { metric: string; variants: { variant: string; units: number; mean: number }[] }[] };
    const purchase = results.metrics.find((m) => m.metric === 'purchase');
    const want = [...(purchase?.variants ?? [])].sort((a, b) => a.variant.localeCompare(b.variant));
    expect(got.map((r) => r.variant)).toEqual(want.map((v) => v.variant));
    got.forEach((r, i) => {
      expect(Number(r.units)).toBe(want[i].units);
      expect(r.conversion as number).toBeCloseTo(want[i].mean, 12);
    });
  });

  it('results table: every number of the JSON export, nulls kept', async () => {
    const json = (await t.admin('GET', '/v1/experiments/pq/export?format=json')).body as { columns: string[]; rows: Record<string, unknown>[] };
    const pq = await download('/v1/experiments/pq/export?format=parquet', 'results.parquet');
    const got = await rows(`SELECT * FROM read_parquet('${pq.path}')`);
    expect(got).toHaveLength(json.rows.length);
    expect(json.rows.length).toBe(6); // 3 metrics × 2 variants
    // Each export reads the results at the moment it is made: only the watermark may differ.
    const meta = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${pq.path}')`);
    const dataThrough = meta.find((m) => m.k === 'strata.data_through')?.v as string;
    expect(Date.parse(dataThrough)).toBeGreaterThanOrEqual(Date.parse(json.rows[0].data_through as string));
    got.forEach((row, i) => {
      const want = json.rows[i];
      for (const col of json.columns) {
        if (col === 'data_through') expect((row[col] as Date).toISOString(), col).toBe(dataThrough);
        else expect(row[col], `${String(want.metric)}/${String(want.variant)}.${col}`).toEqual(want[col]);
      }
    });
    expect(got.filter((r) => r.is_control === true)).toHaveLength(3);
  });

  it('streams a large unit export in row groups of 10,000 rows', async () => {
    // 35,000 more units loaded with SQL (the collector's own tests cover ingestion).
    await t.dataSource.query(`
      INSERT INTO first_exposures (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
      SELECT 'pq', 'bulk-' || lpad(g::text, 6, '0'), CASE WHEN g % 2 = 0 THEN 'control' ELSE 'treatment' END,
             now() - interval '2 hours', '{}'::jsonb, false, now()
        FROM generate_series(1, 35000) g`);
    const total = (await t.admin('GET', '/v1/experiments/pq/results')).body.totalUnits as number;
    expect(total).toBe(UNITS + 35_000);
    const pq = await download('/v1/experiments/pq/export/units?format=parquet', 'big.parquet');
    const [count] = await rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT unit_id)::INTEGER AS d FROM read_parquet('${pq.path}')`);
    expect(count).toEqual({ n: total, d: total });
    const groups = await rows(`SELECT row_group_id, max(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${pq.path}') GROUP BY 1 ORDER BY 1`);
    expect(groups.map((g) => g.n)).toEqual([10_000, 10_000, 10_000, total - 30_000]);
  });

  it('an experiment without units exports a valid, empty file', async () => {
    await t.admin('POST', '/v1/layers', { key: 'empty-layer', name: 'empty' });
    const created = await t.admin('POST', '/v1/experiments', {
      key: 'empty', name: 'empty', layer: 'empty-layer', traffic: 100, primaryMetric: 'purchase',
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
    });
    expect(created.status).toBe(201);
    const pq = await download('/v1/experiments/empty/export/units?format=parquet', 'empty.parquet');
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${pq.path}')`)).toEqual([{ n: 0 }]);
  });
});
