import { describe, expect, it } from 'vitest';
import { generateSecret } from './api-key-secret';
import { adminKeyBits, adminKeyWeakness } from './admin-key-strength';

describe('admin key strength', () => {
  it('accepts generated admin keys, 32 hex digits and 22 base64url characters', () => {
    expect(adminKeyWeakness(generateSecret('admin'))).toBeNull();
    expect(adminKeyBits('0123456789abcdef0123456789abcdef')).toBe(128);
    expect(adminKeyWeakness('sk_admin_0123456789abcdef0123456789abcdef')).toBeNull();
    expect(adminKeyBits('Zm9vYmFyYmF6cXV4cXV1eA')).toBe(132);
    expect(adminKeyWeakness('q3Jx+7/pM2vB0aQ9LkZs1w==')).toBeNull();
  });

  it('refuses the 16-character keys the old check let through, and short hex', () => {
    expect(adminKeyWeakness('abcdefghijklmnop')).toMatch(/carries at most 96 bits, 128 are required/);
    expect(adminKeyWeakness('0123456789abcdef0123456789abcde')).toMatch(/at most 124 bits/);
    expect(adminKeyWeakness('sk_admin_Zm9vYmFyYmF6cXV4cXV1e')).toMatch(/at most 126 bits/);
  });

  it('refuses long keys that are not random or not in a measurable alphabet', () => {
    expect(adminKeyWeakness('a'.repeat(64))).toMatch(/too few distinct characters/);
    expect(adminKeyWeakness('correct horse battery staple, very long')).toMatch(/hex digits or base64/);
  });
});
