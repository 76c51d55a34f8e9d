import { compileSnapshot, evaluate } from '@strata/bucketing';
import type { Assignment } from '@strata/contracts';
import { experiment, layer, snapshot } from '@strata/test-support';
import { describe, expect, it } from 'vitest';
import { assignResponseJson, batchResponseJson } from './assignment-json';

const compiled = compileSnapshot(snapshot([layer('web', 'w')], [experiment('exp-"quoted"', 'web', { salt: 's' })]));

describe('assignment JSON', () => {
  it('serializes exactly like JSON.stringify, including cached shared assignments and escaping', () => {
    const a = evaluate(compiled, 'unit-1');
    expect(a).toHaveLength(1);
    expect(assignResponseJson(a)).toBe(JSON.stringify({ assignments: a }));
    expect(assignResponseJson(a)).toBe(JSON.stringify({ assignments: a })); // second time from the cache
    expect(assignResponseJson([])).toBe('{"assignments":[]}');
    const loose: Assignment = { experiment: 'e', variant: 'v', layer: 'l', reason: 'forced' };
    const results = [
      { unitId: 'ü "x" \u2028', assignments: [...a, loose] },
      { unitId: 'b', assignments: [] },
    ];
    expect(batchResponseJson(results)).toBe(JSON.stringify({ results }));
    expect(JSON.parse(batchResponseJson(results))).toEqual({ results });
  });
});
