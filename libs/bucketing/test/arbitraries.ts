import fc from 'fast-check';

// fast-check's built-in `unit: 'binary'` spends seconds building its tables on first use; these
// generate the same space (any UTF-16 code unit, lone surrogates included, plus astral
// characters as surrogate pairs) instantly.
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c));
const ascii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

/** Arbitrary JavaScript strings: ASCII-heavy, with any code unit and any astral character. */
export function anyString(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit: fc.oneof({ arbitrary: ascii, weight: 3 }, { arbitrary: codeUnit, weight: 2 }, { arbitrary: astral, weight: 1 }), maxLength });
}
