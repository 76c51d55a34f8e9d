import fc from 'fast-check';
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { anyString } from '../test/arbitraries';
import { encodeUnit, hashEncoded, hashPrefix, hashUnit, hashWithPrefix, murmur3 } from './murmur3';

// The reference UTF-8 encodes strings with TextEncoder; encode explicitly so the intent is visible.
const reference = (s: string): number => murmurhash.v3(new TextEncoder().encode(s), 0);

describe('murmur3', () => {
  it('agrees with the murmurhash package on ASCII, multi-byte and emoji ids', () => {
    const ids = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'user-42', 'Zoë', 'Ångström', '日本語', '😀', 'a😀b🎉', 'x'.repeat(1024)];
    for (const id of ids) expect(murmur3(id), id).toBe(reference(id));
  });

  it('agrees with the reference string form, which also hashes UTF-8 bytes', () => {
    expect(murmur3('héllo wörld')).toBe(murmurhash.v3('héllo wörld', 0));
  });

  it('hashes lone surrogates as U+FFFD, like TextEncoder', () => {
    for (const id of ['\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ud83d\ud83d\ude00', '\ude00\ud83d']) {
      expect(murmur3(id)).toBe(reference(id));
      expect(murmur3(id)).toBe(murmur3(id.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')));
    }
  });

  it('equals the reference on arbitrary unicode strings, including lone surrogates', () => {
    fc.assert(
      fc.property(anyString(64), anyString(16), (a, b) => {
        expect(murmur3(a)).toBe(reference(a));
        expect(murmur3(b + a)).toBe(reference(b + a));
      }),
      { numRuns: 1000 },
    );
  });

  // Prefixes are always `${salt}:`, ending in ':', so a lone high surrogate at the end of a salt can
  // never pair with a low surrogate at the start of a unit id (hashing them apart gives two U+FFFD,
  // the concatenation one astral code point). fast-check found that case; the contract excludes it.
  it('continues from a precomputed `${salt}:` prefix exactly as if hashing the concatenation', () => {
    fc.assert(
      fc.property(anyString(20), anyString(40), (salt, rest) => {
        const prefix = `${salt}:`;
        expect(hashWithPrefix(hashPrefix(prefix), rest)).toBe(reference(prefix + rest));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes an id encoded once exactly like the reference, after any prefix', () => {
    fc.assert(
      fc.property(anyString(20), anyString(80), (salt, rest) => {
        const prefix = `${salt}:`;
        expect(hashEncoded(hashPrefix(prefix), encodeUnit(rest))).toBe(reference(prefix + rest));
      }),
      { numRuns: 1000 },
    );
    // Longer than the initial scratch buffer, so it has to grow.
    const long = '😀é'.repeat(400);
    expect(hashEncoded(hashPrefix('s:'), encodeUnit(long))).toBe(reference(`s:${long}`));
  });

  it('hashes salt and unit id joined by a colon', () => {
    expect(hashUnit('salt', 'user-1')).toBe(reference('salt:user-1'));
  });

  it('honours a seed like the reference', () => {
    expect(murmur3('abc', 42)).toBe(murmurhash.v3(new TextEncoder().encode('abc'), 42));
  });
});
