/**
 * A key given in `STRATA_ADMIN_KEY` must be as hard to guess as a generated one (≥ 128 bits), so
 * it is measured by its alphabet: after an optional `sk_admin_` prefix, at least 32 hex digits
 * (4 bits each) or at least 22 base64/base64url characters (6 bits each; `=` padding not counted).
 * Generate one with `openssl rand -hex 16` or `openssl rand -base64 24`.
 */
export const MIN_ADMIN_KEY_BITS = 128;

const PREFIX = 'sk_admin_';
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Bits a key of this shape can carry at most, or an error saying why it can't be measured. */
export function adminKeyBits(key: string): number | { error: string } {
  const body = key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key;
  // A run of a few repeated characters is not random, whatever its length.
  if (new Set(body).size < 8) return { error: 'it repeats too few distinct characters to be random' };
  if (HEX.test(body)) return body.length * 4;
  if (!BASE64.test(body)) return { error: 'use only hex digits or base64/base64url characters (A-Z a-z 0-9 + / - _)' };
  return body.replace(/=+$/, '').length * 6;
}

/** The message for a key weaker than 128 bits, or null when it is strong enough. */
export function adminKeyWeakness(key: string): string | null {
  const bits = adminKeyBits(key);
  const advice =
    'generate one with `openssl rand -hex 16` (32 hex digits) or `openssl rand -base64 24`, optionally prefixed with sk_admin_';
  if (typeof bits !== 'number') return `not accepted: ${bits.error}; ${advice}`;
  if (bits < MIN_ADMIN_KEY_BITS) return `carries at most ${bits} bits, ${MIN_ADMIN_KEY_BITS} are required: ${advice}`;
  return null;
}
