import { describe, expect, it } from 'vitest';
import { createExperimentSchema } from './config';
import { MAX_VALUE_BYTES, parseValueInput, valueProblem } from './values';

describe('valueProblem', () => {
  it.each([
    ['boolean', true, null],
    ['boolean', 'true', 'must be true or false'],
    ['number', 1.5, null],
    ['number', '1', 'must be a finite number'],
    ['string', '', null],
    ['string', 1, 'must be a string'],
    ['json', { a: [1, { b: null }] }, null],
    ['json', 'text', null],
    ['json', null, 'a value is required (null is not a value)'],
  ] as const)('%s %j → %s', (type, value, problem) => {
    expect(valueProblem(type, value)).toBe(problem);
  });

  it('bounds the size in UTF-8 bytes and the depth', () => {
    expect(valueProblem('string', 'x'.repeat(MAX_VALUE_BYTES - 2))).toBeNull();
    expect(valueProblem('string', 'x'.repeat(MAX_VALUE_BYTES - 1))).toMatch(/8193 bytes/);
    expect(valueProblem('string', 'é'.repeat(4096))).toMatch(/bytes/);
    expect(valueProblem('json', JSON.parse('['.repeat(10) + ']'.repeat(10)))).toBeNull();
    expect(valueProblem('json', JSON.parse('['.repeat(11) + ']'.repeat(11)))).toMatch(/deeper than 10/);
    expect(valueProblem('json', { 'k\u0000': 1 })).toMatch(/keys/);
  });

  it('parses editor input with a message to show beside the field', () => {
    expect(parseValueInput('json', '{"a":1}')).toEqual({ value: { a: 1 } });
    expect(parseValueInput('json', '{"a":')).toEqual({ error: expect.stringMatching(/^not valid JSON/) });
    expect(parseValueInput('number', '42')).toEqual({ value: 42 });
    expect(parseValueInput('number', 'abc')).toEqual({ error: expect.stringMatching(/^not valid JSON/) });
    expect(parseValueInput('boolean', '1')).toEqual({ error: 'must be true or false' });
    expect(parseValueInput('string', '{"a":1}')).toEqual({ value: '{"a":1}' });
  });
});

describe('createExperimentSchema with values', () => {
  const base = {
    key: 'e',
    name: 'E',
    layer: 'l',
    variants: [
      { key: 'a', weight: 0.5, value: 1 },
      { key: 'b', weight: 0.5, value: 2 },
    ],
  };
  it('takes typed values with a default', () => {
    expect(createExperimentSchema.safeParse({ ...base, valueType: 'number', defaultValue: 0 }).success).toBe(true);
  });
  it('names every offending path', () => {
    const r = createExperimentSchema.safeParse({ ...base, valueType: 'string' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['variants.0.value', 'variants.1.value', 'defaultValue']);
  });
});
