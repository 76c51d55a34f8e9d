import type { BucketRange, ConfigSnapshot, SnapshotExperiment, SnapshotLayer } from '@strata/contracts';

/** Test helper: a running experiment with sensible defaults; override what a test is about. */
export function experiment(key: string, layer: string, overrides: Partial<SnapshotExperiment> = {}): SnapshotExperiment {
  return {
    key,
    layer,
    salt: `${key}-salt`,
    status: 'running',
    variants: [
      { key: 'control', weight: 0.5 },
      { key: 'treatment', weight: 0.5 },
    ],
    ranges: [{ start: 0, end: 10_000 }],
    targeting: null,
    forcedVariants: [],
    shippedVariant: null,
    ...overrides,
  };
}

export function layer(key: string, salt = `${key}-salt`): SnapshotLayer {
  return { key, salt };
}

export function snapshot(layers: SnapshotLayer[], experiments: SnapshotExperiment[]): ConfigSnapshot {
  return { version: 'test', generatedAt: '2025-01-01T00:00:00.000Z', layers, experiments };
}

/** Splits [0, total) of a layer into consecutive ranges of the given sizes. */
export function consecutiveRanges(sizes: number[]): BucketRange[][] {
  let start = 0;
  return sizes.map((size) => {
    const r = [{ start, end: start + size }];
    start += size;
    return r;
  });
}
