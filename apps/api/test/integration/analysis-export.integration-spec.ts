import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setFlagsFromString } from 'node:v8';
import { DuckDBInstance } from '@duckdb/node-api';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetric, startExperiment } from '../helpers/analysis-fixtures';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/** 1,000,000 units exported through a real HTTP socket: streamed from a cursor with bounded memory. */

const UNITS = 1_000_000;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  await createMetric(t, { key: 'big_conv', type: 'conversion', eventName: 'big_event', cupedLookbackDays: 0 });
  await startExperiment(t, { key: 'big', primary: 'big_conv' });
  // Loaded with SQL directly: the collector's own tests cover ingestion, this one the export path.
  await t.dataSource.query(`
    INSERT INTO first_exposures (experiment_key, unit_id, variant_key, first_ts, attributes, forced, received_at)
    SELECT 'big', 'unit-' || lpad(g::text, 7, '0'), CASE WHEN g % 2 = 0 THEN 'control' ELSE 'treatment' END,
           now() - interval '2 hours', '{"country":"US"}'::jsonb, false, now() - interval '1 minute'
      FROM generate_series(1, $1::int) g`, [UNITS]);
  await t.dataSource.query(`
    INSERT INTO events (id, type, unit_id, name, value, ts, received_at)
    SELECT gen_random_uuid(), 'metric', 'unit-' || lpad(((g * 7919) % $1::int + 1)::text, 7, '0'), 'big_event', 1,
           now() - interval '1 hour', now() - interval '1 minute'
      FROM generate_series(1, 100000) g`, [UNITS]);
  await t.dataSource.query('ANALYZE first_exposures; ANALYZE events');
}, 300_000);
afterAll(async () => {
  await t?.close();
});

describe('unit export at 1,000,000 units', () => {
  it('streams every unit as CSV while the server process grows by less than 100 MB', async () => {
    const started = performance.now();
    const results = await t.admin('GET', '/v1/experiments/big/results');
    console.log(`first results request (full rollup build of ${UNITS} units): ${Math.round(performance.now() - started)} ms`);
    expect(results.status).toBe(200);
    expect(results.body.totalUnits).toBe(UNITS);
    const conversions = results.body.metrics[0].variants.reduce((s: number, v: any) => s + v.sum, 0);

    const base = await t.listen();
    const memory = sampleMemory();
    const exportStart = performance.now();
    const res = await fetch(`${base}/v1/experiments/big/export/units?format=csv`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="big-units.csv"');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // Count on raw bytes: decoding 50 MB into strings here would measure the client, not the server.
    let lines = 0;
    let ones = 0;
    let bytes = 0;
    let prev2 = 0;
    let prev1 = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (let i = 0; i < value.length; i++) {
        const b = value[i];
        if (b === 0x0a) {
          lines++;
          if (prev2 === 0x2c && prev1 === 0x31) ones++; // ",1" before CR LF
        } else if (b !== 0x0d) {
          prev2 = prev1;
          prev1 = b;
        }
      }
    }
    const { growthMb, summary } = memory.stop();
    console.log(`unit export: ${UNITS} units, ${(bytes / 1e6).toFixed(1)} MB CSV in ${Math.round(performance.now() - exportStart)} ms, ${summary}`);
    expect(lines).toBe(UNITS + 1);
    expect(ones).toBe(conversions);
    expect(growthMb).toBeLessThan(100);
  }, 300_000);

  it('streams every unit as Parquet (row groups of 10,000) that DuckDB reads back, with the same bound', async () => {
    const results = await t.admin('GET', '/v1/experiments/big/results');
    const conversions = results.body.metrics[0].variants.reduce((s: number, v: { sum: number }) => s + v.sum, 0);
    const base = t.baseUrl ?? (await t.listen());
    const dir = mkdtempSync(join(tmpdir(), 'strata-parquet-big-'));
    const file = join(dir, 'big.parquet');
    try {
      const memory = sampleMemory();
      const exportStart = performance.now();
      const res = await fetch(`${base}/v1/experiments/big/export/units?format=parquet`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
      expect(res.status).toBe(200);
      await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), createWriteStream(file));
      const { growthMb, summary } = memory.stop();
      console.log(`unit export: ${UNITS} units, ${(statSync(file).size / 1e6).toFixed(1)} MB Parquet in ${Math.round(performance.now() - exportStart)} ms, ${summary}`);
      expect(growthMb).toBeLessThan(100);
      // An independent reader (DuckDB's own Parquet decoder) sees every unit once and the same conversions.
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const [row] = (await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT unit_id)::INTEGER AS d, sum(big_conv)::INTEGER AS ones FROM read_parquet('${file}')`)).getRowObjectsJS();
        expect(row).toEqual({ n: UNITS, d: UNITS, ones: conversions });
        const [groups] = (await duck.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INTEGER AS g FROM parquet_metadata('${file}')`)).getRowObjectsJS();
        expect(groups.g).toBe(UNITS / 10_000);
      } finally {
        duck.closeSync();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

/**
 * Peak memory of this process (the server runs in it) while an export streams. A full GC every
 * 0.5 s: the figure is memory the export holds plus at most half a second of garbage (without it,
 * RSS swings by 100-180 MB with V8's GC timing alone, live heap stays flat).
 */
function sampleMemory(): { stop(): { growthMb: number; summary: string } } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const baseline = process.memoryUsage().rss;
  const heapBase = process.memoryUsage().heapUsed;
  let peak = baseline;
  let heapPeak = 0;
  let externalPeak = 0;
  let ticks = 0;
  const sampler = setInterval(() => {
    if (++ticks % 10 === 0) gc();
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
    externalPeak = Math.max(externalPeak, m.external + m.arrayBuffers);
  }, 50);
  return {
    stop() {
      clearInterval(sampler);
      const growthMb = (peak - baseline) / 1024 / 1024;
      const summary = `peak RSS growth ${growthMb.toFixed(1)} MB (heap peak +${((heapPeak - heapBase) / 1048576).toFixed(1)} MB, external peak ${(externalPeak / 1048576).toFixed(1)} MB)`;
      return { growthMb, summary };
    },
  };
}
