import type { ConfigSnapshot } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { compileSnapshot } from './compile';
import { defaultsFor, evaluate, evaluateExperiment } from './evaluate';
import { explain } from './explain';

const snapshot: ConfigSnapshot = {
  version: 'v',
  generatedAt: '2025-01-01T00:00:00.000Z',
  layers: [{ key: 'l', salt: 'l' }],
  experiments: [
    {
      key: 'cfg',
      layer: 'l',
      salt: 'cfg',
      status: 'running',
      variants: [
        { key: 'control', weight: 0.5, value: { n: 1 } },
        { key: 'treatment', weight: 0.5, value: { n: 2 } },
      ],
      ranges: [{ start: 0, end: 5000 }],
      targeting: null,
      forcedVariants: [{ unitId: 'vip', variant: 'treatment', expiresAt: null }],
      shippedVariant: null,
      valueType: 'json',
      defaultValue: { n: 0 },
    },
    {
      key: 'won',
      layer: 'l',
      salt: 'won',
      status: 'shipped',
      variants: [
        { key: 'a', weight: 0.5, value: 'A' },
        { key: 'b', weight: 0.5, value: 'B' },
      ],
      ranges: [],
      targeting: null,
      forcedVariants: [],
      shippedVariant: 'b',
      valueType: 'string',
      defaultValue: 'D',
    },
  ],
};
const c = compileSnapshot(snapshot);
const ids = Array.from({ length: 200 }, (_, i) => `unit-${i}`);

describe('variant values', () => {
  it('carries the variant value on bucketed, forced and shipped assignments', () => {
    for (const id of ids) {
      const a = evaluateExperiment(c, 'cfg', id);
      if (a !== null) expect(a.value).toEqual({ n: a.variant === 'control' ? 1 : 2 });
      expect(evaluateExperiment(c, 'won', id)?.value).toBe('B');
    }
    expect(evaluateExperiment(c, 'cfg', 'vip')).toEqual({
      experiment: 'cfg',
      layer: 'l',
      variant: 'treatment',
      reason: 'forced',
      value: { n: 2 },
    });
  });

  it('lists the default of every valued experiment the unit is not in', () => {
    const outside = ids.find((id) => evaluateExperiment(c, 'cfg', id) === null) as string;
    const inside = ids.find((id) => evaluateExperiment(c, 'cfg', id) !== null) as string;
    expect(defaultsFor(c, evaluate(c, outside))).toEqual({ cfg: { n: 0 } });
    expect(defaultsFor(c, evaluate(c, inside))).toBeUndefined();
    expect(defaultsFor(c, evaluate(c, outside, {}, ['won']), ['won'])).toBeUndefined();
    expect(defaultsFor(compileSnapshot({ ...snapshot, experiments: [] }), [])).toBeUndefined();
  });

  it('explains which value and why', () => {
    const outside = ids.find((id) => evaluateExperiment(c, 'cfg', id) === null) as string;
    const e = explain(c, outside, {}, 'cfg');
    expect(e).toMatchObject({ outcome: 'bucket_not_held', value: { n: 0 }, valueSource: 'default' });
    expect(e.message).toContain('Value {"n":0}: the default value of "cfg"');
    expect(explain(c, 'x', {}, 'won')).toMatchObject({ outcome: 'shipped', value: 'B', valueSource: 'variant' });
  });

  it('does not freeze the snapshot passed in, but freezes what it hands out', () => {
    expect(Object.isFrozen(snapshot.experiments[0].variants[0].value)).toBe(false);
    expect(Object.isFrozen(evaluateExperiment(c, 'cfg', 'vip')?.value)).toBe(true);
  });
});
