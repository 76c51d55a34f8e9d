import { describe, expect, it } from 'vitest';
import { experiment, layer, snapshot } from '@strata/test-support';
import { compileSnapshot } from './compile';
import { evaluate, evaluateExperiment, inShipShare, variantDraw } from './evaluate';
import { shipExposures } from './ship-exposure';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `unit-${i}`);

const shipped = (shipShare?: number, overrides = {}) =>
  compileSnapshot(
    snapshot(
      [layer('L'), layer('M')],
      [
        experiment('s', 'L', { status: 'shipped', ranges: [], shippedVariant: 'treatment', ...(shipShare === undefined ? {} : { shipShare }), ...overrides }),
        experiment('r', 'M'),
      ],
    ),
  );

const winners = (c: ReturnType<typeof compileSnapshot>, list: string[], attributes = {}): Set<string> =>
  new Set(list.filter((id) => evaluateExperiment(c, 's', id, attributes) !== null));

describe('staged ship (shipShare)', () => {
  it('gives the winner to the share of targeted units within a binomial tolerance', () => {
    const list = ids(20_000);
    for (const share of [0.1, 0.5]) {
      const n = winners(shipped(share), list).size;
      // 5 standard deviations of a binomial(20,000, share).
      expect(Math.abs(n - share * list.length)).toBeLessThan(5 * Math.sqrt(list.length * share * (1 - share)));
    }
  });

  it('is monotone: units with the winner at 10 % keep it at 50 % and 100 %', () => {
    const list = ids(5000);
    const at10 = winners(shipped(0.1), list);
    const at50 = winners(shipped(0.5), list);
    const at100 = winners(shipped(1), list);
    for (const id of at10) expect(at50.has(id)).toBe(true);
    for (const id of at50) expect(at100.has(id)).toBe(true);
    expect(at100.size).toBe(list.length);
    // Lowering the share (a revert) keeps exactly the units the lower share covers.
    expect([...at50].filter((id) => winners(shipped(0.1), [id]).size === 1)).toEqual([...at10]);
  });

  it('gives the same result as a full ship when the share is 1, absent or invalid', () => {
    const full = shipped();
    expect(full.experiments[0].shipPrefix).toBeNull();
    for (const c of [shipped(1), shipped(Number.NaN), shipped(7)]) {
      expect(c.experiments[0].shipPrefix).toBeNull();
      for (const id of ids(200)) expect(evaluateExperiment(c, 's', id)).toEqual(evaluateExperiment(full, 's', id));
    }
    expect(winners(shipped(0), ids(500)).size).toBe(0);
  });

  it('does not correlate the ship draw with the variant draw the unit had while running', () => {
    const c = shipped(0.5);
    const list = ids(10_000);
    const running = compileSnapshot(snapshot([layer('L')], [experiment('s', 'L')]));
    const wasControl = list.filter((id) => variantDraw(running.experiments[0], id) < 0.5);
    const share = wasControl.filter((id) => inShipShare(c.experiments[0], id)).length / wasControl.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.04);
  });

  it('still applies targeting, holdouts and forced variants first', () => {
    const c = shipped(0.5, {
      targeting: { attribute: 'plan', operator: 'eq', value: 'pro' },
      forcedVariants: [{ unitId: 'qa', variant: 'control', expiresAt: null }],
    });
    const list = ids(2000);
    expect(winners(c, list, { plan: 'free' }).size).toBe(0);
    expect(winners(c, list, { plan: 'pro' }).size).toBeGreaterThan(800);
    expect(evaluateExperiment(c, 's', 'qa')).toMatchObject({ variant: 'control', reason: 'forced' });
    const held = compileSnapshot({ ...snapshot([layer('L')], [experiment('s', 'L', { status: 'shipped', ranges: [], shippedVariant: 'treatment', shipShare: 0.9 })]), holdouts: [{ key: 'h', salt: 'h', share: 1, layers: null }] });
    expect(winners(held, list).size).toBe(0);
  });

  it('agrees between evaluate and evaluateExperiment, next to a running experiment of another layer', () => {
    const c = shipped(0.3);
    for (const id of ids(1000)) {
      const all = evaluate(c, id);
      const one = evaluateExperiment(c, 's', id);
      expect(all.filter((a) => a.experiment === 's')).toEqual(one === null ? [] : [one]);
      expect(all.some((a) => a.experiment === 'r')).toBe(true);
    }
  });
});

describe('shipExposures', () => {
  it('lists every targeted candidate of a staged ship once, in the arm its assignment shows', () => {
    const c = shipped(0.4, { targeting: { attribute: 'plan', operator: 'eq', value: 'pro' }, forcedVariants: [{ unitId: 'qa', variant: 'control', expiresAt: null }] });
    const arms = { winner: 0, default: 0 };
    for (const id of ids(2000)) {
      const [x, ...rest] = shipExposures(c, id, { plan: 'pro' });
      expect(rest).toEqual([]);
      expect(x.exposureKey).toBe('ship:s');
      expect(x.arm === 'winner').toBe(evaluateExperiment(c, 's', id, { plan: 'pro' }) !== null);
      arms[x.arm]++;
      expect(shipExposures(c, id, { plan: 'free' })).toEqual([]);
      expect(shipExposures(c, id, { plan: 'pro' }, ['r'])).toEqual([]);
    }
    expect(arms.winner).toBeGreaterThan(700);
    expect(arms.default).toBeGreaterThan(1000);
    expect(shipExposures(c, 'qa', { plan: 'pro' })).toEqual([]);
  });

  it('is empty for a full ship and for held-out units', () => {
    expect(shipExposures(shipped(1), 'u1', {})).toEqual([]);
    expect(shipped().stagedShips).toEqual([]);
    const held = compileSnapshot({ ...snapshot([layer('L')], [experiment('s', 'L', { status: 'shipped', ranges: [], shippedVariant: 'treatment', shipShare: 0.5 })]), holdouts: [{ key: 'h', salt: 'h', share: 1, layers: null }] });
    expect(shipExposures(held, 'u1', {})).toEqual([]);
  });
});
