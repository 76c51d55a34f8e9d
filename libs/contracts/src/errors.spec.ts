import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorStatus, isErrorBody } from './errors';

describe('error registry', () => {
  it('maps every code to a 4xx or 5xx status', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
    }
    expect(errorStatus('insufficient_capacity')).toBe(409);
  });

  it('recognises the error body shape', () => {
    expect(isErrorBody({ error: { code: 'not_found', message: 'x', details: [] } })).toBe(true);
    expect(isErrorBody({ message: 'x' })).toBe(false);
  });
});
