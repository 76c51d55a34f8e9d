import { MAX_ATTRIBUTE_LENGTH } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { compileRe2 } from './regex';
import { MAX_REGEX_INPUT } from './targeting';

describe('compileRe2', () => {
  it('finds a match anywhere (unanchored), with RE2 syntax', () => {
    expect(compileRe2('b')('abc')).toBe(true);
    expect(compileRe2('^b')('abc')).toBe(false);
    expect(compileRe2('(?i)^ABC$')('abc')).toBe(true);
    expect(compileRe2('^\\p{Lu}')('Ärger')).toBe(true);
  });

  it('refuses backreferences and lookaround by throwing', () => {
    expect(() => compileRe2('(a)\\1')).toThrow();
    expect(() => compileRe2('a(?=b)')).toThrow();
  });

  it('caps inputs where the API caps attribute values', () => {
    expect(MAX_REGEX_INPUT).toBe(MAX_ATTRIBUTE_LENGTH);
  });
});
