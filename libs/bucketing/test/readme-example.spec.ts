import { describe, expect, it } from 'vitest';
import { compileSnapshot, evaluate, explain } from '../src';

// Keeps the example in README.md honest.
describe('README example', () => {
  const compiled = compileSnapshot({
    version: 'v1',
    generatedAt: '2025-06-01T00:00:00Z',
    layers: [{ key: 'checkout', salt: 'checkout-7c1f' }],
    experiments: [
      {
        key: 'one-page-checkout',
        layer: 'checkout',
        salt: 'opc-2a9e',
        status: 'running',
        variants: [
          { key: 'control', weight: 0.5 },
          { key: 'treatment', weight: 0.5 },
        ],
        ranges: [{ start: 0, end: 2000 }],
        targeting: { attribute: 'country', operator: 'in', value: ['DE', 'AT'] },
        forcedVariants: [{ unitId: 'qa-anna', variant: 'treatment', expiresAt: null }],
        shippedVariant: null,
      },
    ],
  });

  it('produces what the README says', () => {
    const r = evaluate(compiled, 'user-42', { country: 'DE' });
    expect(r.length).toBeLessThanOrEqual(1);
    expect(explain(compiled, 'user-42', { country: 'FR' }, 'one-page-checkout').message).toBe(
      'Unit "user-42" fails the targeting of "one-page-checkout" at the root rule (country in ["DE","AT"]); the unit has "FR".',
    );
    expect(evaluate(compiled, 'qa-anna')).toEqual([{ experiment: 'one-page-checkout', layer: 'checkout', variant: 'treatment', reason: 'forced' }]);
  });
});
