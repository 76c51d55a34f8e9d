import { describe, expect, it } from 'vitest';
import { copyField, copyLine, partitionFor, utcDay } from './event-row';

describe('COPY encoding', () => {
  it('escapes backslash, tab, newline and carriage return and writes NULL as \\N', () => {
    expect(copyField('plain')).toBe('plain');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField(null)).toBe('\\N');
  });

  it('writes one tab-separated line per row in stage column order', () => {
    const line = copyLine(7, {
      id: '00000000-0000-4000-8000-000000000000',
      type: 'metric',
      unitId: 'u\t1',
      experimentKey: null,
      variantKey: null,
      name: 'buy',
      value: 1.5,
      ts: Date.UTC(2026, 10, 20),
      receivedAt: Date.UTC(2026, 10, 20, 0, 0, 1),
      attributes: '{"a":"x\\ny"}',
      apiKeyId: null,
      forced: false,
    });
    expect(line).toBe(
      '7\t00000000-0000-4000-8000-000000000000\tmetric\tu\\t1\t\\N\t\\N\tbuy\t1.5\t2026-11-20T00:00:00.000Z\t2026-11-20T00:00:01.000Z\t{"a":"x\\\\ny"}\t\\N\tf\n',
    );
  });
});

describe('daily partitions', () => {
  it('names a UTC day events_YYYYMMDD with a [midnight, next midnight) range', () => {
    const day = utcDay(Date.parse('2026-11-20T23:59:59.999Z'));
    expect(partitionFor(day)).toEqual({ name: 'events_20261120', from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' });
    expect(utcDay(Date.parse('2026-11-21T00:00:00Z'))).toBe(day + 1);
  });
});
