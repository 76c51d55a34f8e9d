import { describe, expect, it } from 'vitest';
import { experiment, layer, snapshot } from '@strata/test-support';
import { compileSnapshot, evaluate, evaluateExperiment, explain, holdoutExposures, inHoldout } from './index';

const base = snapshot(
  [layer('checkout'), layer('search'), layer('other')],
  [
    experiment('button', 'checkout'),
    experiment('banner', 'checkout', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }),
    experiment('ranking', 'search'),
    experiment('free', 'other'),
  ],
);
const withHoldout = (layers: string[] | null, share = 0.1) => compileSnapshot({ ...base, holdouts: [{ key: 'h2026', salt: 'h2026-salt', share, layers }] });
const ids = Array.from({ length: 10_000 }, (_, i) => `unit-${i}`);

describe('holdouts', () => {
  it('give held-out units nothing in the covered layers, not even a shipped variant, and leave other layers alone', () => {
    const c = withHoldout(['checkout', 'search']);
    const plain = compileSnapshot(base);
    let held = 0;
    for (const id of ids) {
      const out = inHoldout(c.holdouts[0], id);
      const got = evaluate(c, id).map((a) => a.experiment);
      if (out) {
        held++;
        expect(got).toEqual(['free']);
        expect(evaluateExperiment(c, 'banner', id)).toBeNull();
      } else {
        expect(evaluate(c, id)).toEqual(evaluate(plain, id));
      }
      expect(evaluateExperiment(c, 'free', id)).toEqual(evaluateExperiment(plain, 'free', id));
    }
    expect(held / ids.length).toBeGreaterThan(0.09);
    expect(held / ids.length).toBeLessThan(0.11);
  });

  it('cover every layer when layers is null', () => {
    const c = withHoldout(null, 0.5);
    const id = ids.find((x) => inHoldout(c.holdouts[0], x)) as string;
    expect(evaluate(c, id)).toEqual([]);
  });

  it('let a forced variant win over the holdout', () => {
    const forced = { ...base, experiments: base.experiments.map((e) => (e.key === 'button' ? { ...e, forcedVariants: [{ unitId: 'qa', variant: 'treatment', expiresAt: null }] } : e)) };
    const salt = 'find-qa';
    const c = compileSnapshot({ ...forced, holdouts: [{ key: 'all', salt, share: 1, layers: null }] });
    expect(evaluate(c, 'qa')).toEqual([{ experiment: 'button', layer: 'checkout', variant: 'treatment', reason: 'forced' }]);
    expect(evaluate(c, 'someone')).toEqual([]);
  });

  it('are named by explain', () => {
    const c = withHoldout(['checkout'], 0.5);
    const id = ids.find((x) => inHoldout(c.holdouts[0], x)) as string;
    const e = explain(c, id, {}, 'button');
    expect(e.outcome).toBe('in_holdout');
    expect(e.holdout).toBe('h2026');
    expect(e.assignment).toBeNull();
    expect(e.message).toContain('in holdout "h2026"');
    expect(explain(c, id, {}, 'ranking').outcome).toBe('bucketed');
  });

  it('record an exposure for both arms when a covered layer is evaluated', () => {
    const c = withHoldout(['search'], 0.5);
    const arms = new Set<string>();
    for (const id of ids.slice(0, 200)) {
      const all = holdoutExposures(c, id);
      expect(all).toHaveLength(1);
      expect(all[0].arm).toBe(inHoldout(c.holdouts[0], id) ? 'holdout' : 'rest');
      arms.add(all[0].arm);
      expect(holdoutExposures(c, id, ['free'])).toEqual([]);
      expect(holdoutExposures(c, id, ['ranking'])).toHaveLength(1);
    }
    expect([...arms].sort()).toEqual(['holdout', 'rest']);
    expect(holdoutExposures(compileSnapshot(base), 'x')).toEqual([]);
  });
});
