import { describe, expect, it } from 'vitest';
import { compileTargeting, secureHash } from '../src';
import data from './secure-vectors.json';

describe('secure condition vectors (libs/bucketing/test/secure-vectors.json)', () => {
  it('hashes every vector to its published hash', () => {
    for (const v of data.vectors) expect(secureHash(v.salt, v.value), JSON.stringify(v)).toBe(v.hash);
  });

  it('matches a hashed condition on the plain value, exactly and case-sensitively, for every equality operator', () => {
    for (const v of data.vectors) {
      const eq = compileTargeting({ attribute: 'a', operator: 'eq', value: v.hash, hashSalt: v.salt });
      const notIn = compileTargeting({ attribute: 'a', operator: 'not_in', value: [v.hash], hashSalt: v.salt });
      expect(eq({ a: v.value })).toBe(true);
      expect(eq({ a: `${v.value} ` })).toBe(false);
      expect(notIn({ a: v.value })).toBe(false);
      expect(notIn({ a: `${v.value}x` })).toBe(true);
      expect(eq({})).toBe(false);
    }
    expect(compileTargeting({ attribute: 'a', operator: 'gt', value: data.vectors[0].hash, hashSalt: 's' })({ a: 'zzz' })).toBe(false);
  });
});
