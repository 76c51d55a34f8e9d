import { describe, expect, it } from 'vitest';
import type { EventRow } from '../store/event-row';
import { decodeBatch, encodeBatches, EventLogFormatError } from './event-log-codec';

function row(i: number, overrides: Partial<EventRow> = {}): EventRow {
  return {
    id: `0190c0de-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    type: i % 2 ? 'metric' : 'exposure',
    unitId: `unit-é-${i}`,
    experimentKey: i % 2 ? null : 'checkout',
    variantKey: i % 2 ? null : 'treatment',
    name: i % 2 ? 'purchase' : null,
    value: i % 2 ? i * 1.5 : null,
    ts: 1_764_000_000_000 + i,
    attributes: i % 3 ? '{"plan":"pro","tags":["a","\\n"]}' : null,
    apiKeyId: i % 4 ? '6f1c5a52-8d1e-4c1b-9a53-0b8f1f0f6d11' : null,
    forced: i % 5 === 0,
    ...overrides,
  };
}

describe('event log codec', () => {
  it('gives back exactly the rows it encoded, in order', () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(i));
    const [batch, ...rest] = encodeBatches(rows, 1024 * 1024);
    expect(rest).toEqual([]);
    expect(batch.rows).toBe(50);
    expect(decodeBatch(batch.data)).toEqual(rows);
  });

  it('splits rows over messages within the size limit, none lost or repeated', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(i, { unitId: 'x'.repeat(200) }));
    const batches = encodeBatches(rows, 64 * 1024);
    expect(batches.length).toBeGreaterThan(3);
    for (const b of batches) expect(b.data.byteLength).toBeLessThanOrEqual(64 * 1024);
    expect(batches.flatMap((b) => decodeBatch(b.data))).toEqual(rows);
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(1000);
  });

  it('keeps a row larger than the limit in a message of its own rather than dropping it', () => {
    const big = row(1, { unitId: 'y'.repeat(5000) });
    const batches = encodeBatches([row(0), big, row(2)], 4096);
    expect(batches.map((b) => b.rows)).toEqual([1, 1, 1]);
    expect(decodeBatch(batches[1].data)).toEqual([big]);
  });

  it('names a re-sent batch the same, and any other batch differently', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(i));
    const again = Array.from({ length: 10 }, (_, i) => row(i, { ts: 42 }));
    expect(encodeBatches(again, 1 << 20)[0].msgId).toBe(encodeBatches(rows, 1 << 20)[0].msgId);
    expect(encodeBatches(rows.slice(1), 1 << 20)[0].msgId).not.toBe(encodeBatches(rows, 1 << 20)[0].msgId);
  });

  it('refuses a message it did not write', () => {
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(() => decodeBatch(enc('{"events":[]}'))).toThrow(EventLogFormatError);
    expect(() => decodeBatch(enc('r1\n[["a","click","u",null,null,null,null,1,null,null,0]]'))).toThrow(EventLogFormatError);
    expect(() => decodeBatch(enc('r1\n[["a","metric","u",null,null,"n",null,"1",null,null,0]]'))).toThrow(EventLogFormatError);
    expect(() => decodeBatch(enc('r1\n[["a",'))).toThrow(EventLogFormatError);
    expect(() => decodeBatch(enc('r1\n{}'))).toThrow(EventLogFormatError);
  });
});
