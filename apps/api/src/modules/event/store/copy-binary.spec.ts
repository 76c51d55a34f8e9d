import { describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from './copy-binary';

/** Reads back what BinaryCopyWriter wrote: fields as raw byte buffers (null for NULL), per row. */
function parse(buf: Buffer): (Buffer | null)[][] {
  expect(buf.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  expect(buf.readInt32BE(11)).toBe(0);
  expect(buf.readInt32BE(15)).toBe(0);
  let p = 19;
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const n = buf.readInt16BE(p);
    p += 2;
    if (n === -1) break;
    const fields: (Buffer | null)[] = [];
    for (let f = 0; f < n; f++) {
      const len = buf.readInt32BE(p);
      p += 4;
      fields.push(len < 0 ? null : buf.subarray(p, p + len));
      if (len > 0) p += len;
    }
    rows.push(fields);
  }
  expect(p).toBe(buf.length);
  return rows;
}

describe('binary COPY writer', () => {
  it('writes header, rows of length-prefixed fields and the trailer', () => {
    const w = new BinaryCopyWriter(8).header();
    w.row(3).text('a').null().text('');
    w.row(1).bool(true);
    w.trailer();
    const rows = parse(w.take());
    expect(rows).toEqual([[Buffer.from('a'), null, Buffer.alloc(0)], [Buffer.from([1])]]);
  });

  it('encodes a uuid as its 16 bytes, in either case, and refuses anything else', () => {
    const id = '0123abcd-4567-89ef-ABCD-0123456789fe';
    const rows = parse(new BinaryCopyWriter().header().row(1).uuid(id).trailer().take());
    expect(rows[0][0]?.toString('hex')).toBe(id.replace(/-/g, '').toLowerCase());
    expect(() => new BinaryCopyWriter().uuid('0123abcd-4567-89ef-abcd-0123456789fg')).toThrow(/not a uuid/);
    expect(() => new BinaryCopyWriter().uuid('0123abcd')).toThrow(/not a uuid/);
  });

  it('encodes text as UTF-8 with its byte length, also for characters outside the BMP', () => {
    const s = 'ユーザー🙂\t\\';
    const rows = parse(new BinaryCopyWriter(4).header().row(1).text(s).trailer().take());
    expect(rows[0][0]?.toString('utf8')).toBe(s);
    expect(rows[0][0]?.length).toBe(Buffer.byteLength(s));
  });

  it('encodes jsonb as version 1 followed by the JSON text', () => {
    const rows = parse(new BinaryCopyWriter().header().row(2).jsonb('{"a":"ü"}').jsonb(null).trailer().take());
    expect(rows[0][0]?.[0]).toBe(1);
    expect(rows[0][0]?.subarray(1).toString('utf8')).toBe('{"a":"ü"}');
    expect(rows[0][1]).toBeNull();
  });

  it('encodes timestamptz as int64 microseconds since 2000-01-01, before and after it', () => {
    const times = [Date.UTC(2000, 0, 1), Date.UTC(2026, 10, 24, 9, 30, 1, 123), Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(1970, 0, 1), Date.UTC(2262, 0, 1)];
    const w = new BinaryCopyWriter().header();
    for (const t of times) w.row(1).timestamptz(t);
    const rows = parse(w.trailer().take());
    rows.forEach((r, i) => {
      // Independent reference: BigInt arithmetic.
      expect(r[0]?.readBigInt64BE(0)).toBe((BigInt(times[i]) - 946684800000n) * 1000n);
    });
  });

  it('encodes double precision big-endian, NULL for null', () => {
    const values = [0, -1.5, 1e300, Number.MIN_VALUE, 49.9];
    const w = new BinaryCopyWriter().header();
    for (const v of values) w.row(1).float8(v);
    w.row(1).float8(null);
    const rows = parse(w.trailer().take());
    expect(rows.slice(0, -1).map((r) => r[0]?.readDoubleBE(0))).toEqual(values);
    expect(rows.at(-1)).toEqual([null]);
  });

  it('starts over after take, growing the buffer as needed', () => {
    const w = new BinaryCopyWriter(2).header();
    w.row(1).text('x'.repeat(10_000));
    const first = w.take();
    expect(first.length).toBe(19 + 2 + 4 + 10_000);
    w.row(1).text('y');
    expect(w.take().length).toBe(2 + 4 + 1);
  });
});
