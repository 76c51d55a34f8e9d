import { describe, expect, it } from 'vitest';
import { buildSnapshot, canonicalJson, mergeRanges, SnapshotAssembler, type SnapshotExperimentRow, type SnapshotRows } from './snapshot-builder';

const NOW = new Date('2025-06-01T12:00:00.000Z');

function row(overrides: Partial<SnapshotExperimentRow> = {}): SnapshotExperimentRow {
  return {
    key: 'checkout',
    layer: 'web',
    salt: 'checkout',
    status: 'running',
    variants: [
      { key: 'control', name: 'Control', weight: 0.5 },
      { key: 'treatment', name: 'Treatment', weight: 0.5 },
    ],
    targeting: null,
    forcedVariants: [],
    shippedVariant: null,
    ranges: [{ start: 0, end: 5000 }],
    ...overrides,
  };
}

const rows = (experiments: SnapshotExperimentRow[]): SnapshotRows => ({ layers: [{ key: 'web', salt: 'web-salt' }], experiments });

describe('canonicalJson', () => {
  it('serializes equal content identically whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});

describe('mergeRanges', () => {
  it('sorts and joins touching ranges so the same buckets give the same ranges', () => {
    expect(
      mergeRanges([
        { start: 300, end: 400 },
        { start: 0, end: 100 },
        { start: 100, end: 200 },
      ]),
    ).toEqual([
      { start: 0, end: 200 },
      { start: 300, end: 400 },
    ]);
  });
});

describe('buildSnapshot', () => {
  it('gives the same version for the same content built at different times and a new one when content changes', () => {
    const a = buildSnapshot(rows([row()]), NOW).snapshot;
    const b = buildSnapshot(rows([row({ ranges: [{ start: 2500, end: 5000 }, { start: 0, end: 2500 }] })]), new Date(NOW.getTime() + 60_000)).snapshot;
    expect(b.version).toBe(a.version);
    expect(a.version).toMatch(/^[0-9a-f]{40}$/);
    const ramped = buildSnapshot(rows([row({ ranges: [{ start: 0, end: 6000 }] })]), NOW).snapshot;
    expect(ramped.version).not.toBe(a.version);
  });

  it('keeps only key and weight of variants and no ranges for shipped experiments', () => {
    const s = buildSnapshot(rows([row({ status: 'shipped', shippedVariant: 'treatment', ranges: null })]), NOW).snapshot;
    expect(s.experiments[0]).toEqual({
      key: 'checkout',
      layer: 'web',
      salt: 'checkout',
      status: 'shipped',
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      ranges: [],
      targeting: null,
      forcedVariants: [],
      shippedVariant: 'treatment',
    });
  });

  it('drops expired forced variants and reports the next expiry still ahead', () => {
    const built = buildSnapshot(
      rows([
        row({
          forcedVariants: [
            { unitId: 'gone', variant: 'treatment', expiresAt: '2025-06-01T11:59:59.000Z' },
            { unitId: 'later', variant: 'treatment', expiresAt: '2025-06-01T14:01:00+02:00' },
            { unitId: 'at-now', variant: 'treatment', expiresAt: '2025-06-01T12:00:00.000Z' },
            { unitId: 'soon', variant: 'control', expiresAt: '2025-06-01T12:00:30.000Z' },
            { unitId: 'forever', variant: 'control', expiresAt: null },
          ],
        }),
      ]),
      NOW,
    );
    expect(built.snapshot.experiments[0].forcedVariants).toEqual([
      { unitId: 'later', variant: 'treatment', expiresAt: '2025-06-01T12:01:00.000Z' },
      { unitId: 'soon', variant: 'control', expiresAt: '2025-06-01T12:00:30.000Z' },
      { unitId: 'forever', variant: 'control', expiresAt: null },
    ]);
    expect(built.nextExpiry).toBe(Date.parse('2025-06-01T12:00:30.000Z'));
  });

  it('changes the version when a forced variant expires', () => {
    const forced = [{ unitId: 'u1', variant: 'treatment', expiresAt: '2025-06-01T12:00:30.000Z' }];
    const before = buildSnapshot(rows([row({ forcedVariants: forced })]), NOW);
    const after = buildSnapshot(rows([row({ forcedVariants: forced })]), new Date('2025-06-01T12:00:31.000Z'));
    expect(after.snapshot.version).not.toBe(before.snapshot.version);
    expect(after.nextExpiry).toBeNull();
  });
});

describe('SnapshotAssembler', () => {
  const many = (n: number, ramp = 0): SnapshotExperimentRow[] =>
    Array.from({ length: n }, (_, i) => row({ key: `exp-${String(i).padStart(3, '0')}`, salt: `s${i}`, ranges: [{ start: i * 10, end: i * 10 + 10 + (i === 7 ? ramp : 0) }] }));

  it('builds exactly what buildSnapshot builds: the same version and the same served JSON', () => {
    const a = new SnapshotAssembler();
    a.apply(rows(many(50)), 'all', NOW.getTime());
    const assembled = a.build(NOW);
    const full = buildSnapshot(rows(many(50)), NOW);
    expect(assembled.snapshot).toEqual(full.snapshot);
    expect(assembled.json).toBe(JSON.stringify(full.snapshot));
  });

  it('after an update of a few keys equals a full build of the new state (changed, added and removed experiments)', () => {
    const a = new SnapshotAssembler();
    a.apply(rows(many(50)), 'all', NOW.getTime());
    // exp-007 ramped, exp-020 left the snapshot (stopped), exp-999 started.
    const changed = [many(50, 5)[7], row({ key: 'exp-999', salt: 'new', ranges: [{ start: 9000, end: 9100 }] })];
    a.apply(rows(changed), new Set(['exp-007', 'exp-020', 'exp-999']), NOW.getTime());
    const expected = [...many(50, 5).filter((e) => e.key !== 'exp-020'), changed[1]];
    const full = buildSnapshot(rows(expected), NOW);
    const assembled = a.build(NOW);
    expect(assembled.snapshot.version).toBe(full.snapshot.version);
    expect(assembled.json).toBe(JSON.stringify(full.snapshot));
    expect(assembled.snapshot.experiments.map((e) => e.key)).not.toContain('exp-020');
  });

  it('keeps the earliest forced-variant expiry across experiments it did not re-read', () => {
    const a = new SnapshotAssembler();
    const soon = '2025-06-01T12:00:30.000Z';
    a.apply(rows([row({ key: 'a', forcedVariants: [{ unitId: 'u', variant: 'control', expiresAt: soon }] }), row({ key: 'b' })]), 'all', NOW.getTime());
    a.apply(rows([row({ key: 'b', ranges: [{ start: 0, end: 10 }] })]), new Set(['b']), NOW.getTime());
    expect(a.build(NOW).nextExpiry).toBe(Date.parse(soon));
  });

  it('drops an expired forced variant from the rows it holds, without a new read, as a full build at that time would', () => {
    const a = new SnapshotAssembler();
    const soon = '2025-06-01T12:00:30.000Z';
    const later = new Date('2025-06-01T12:01:00.000Z');
    const experiments = [row({ key: 'a', forcedVariants: [{ unitId: 'u', variant: 'control', expiresAt: soon }, { unitId: 'v', variant: 'treatment', expiresAt: null }] }), row({ key: 'b' })];
    a.apply(rows(experiments), 'all', NOW.getTime());
    a.expire(later.getTime());
    const assembled = a.build(later);
    const full = buildSnapshot(rows(experiments), later);
    expect(assembled.snapshot.experiments[0].forcedVariants).toEqual([{ unitId: 'v', variant: 'treatment', expiresAt: null }]);
    expect(assembled.snapshot.version).toBe(full.snapshot.version);
    expect(assembled.json).toBe(JSON.stringify(full.snapshot));
    expect(assembled.nextExpiry).toBeNull();
  });
});
