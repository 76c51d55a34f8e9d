/**
 * MurmurHash3 x86 32-bit over the UTF-8 bytes of a JavaScript string, encoded on the fly.
 *
 * Equal to `murmurhash.v3(new TextEncoder().encode(s), seed)`: lone surrogates are encoded as
 * U+FFFD (EF BF BD), exactly as TextEncoder does, so a malformed id still hashes like the
 * reference instead of throwing.
 *
 * Hot path: this runs twice per layer per evaluation. It must not allocate (no TextEncoder,
 * no Buffer, no intermediate arrays or strings) and must stay browser-safe (no `node:` APIs).
 */

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;

/** State of a hash after a prefix (e.g. `${salt}:`), so evaluation hashes only the unit id. */
export interface HashPrefix {
  /** Running h1 after every complete 4-byte block of the prefix. */
  readonly h: number;
  /** Bytes of the incomplete last block, little-endian. */
  readonly tail: number;
  /** How many bytes `tail` holds (0–3). */
  readonly tailBytes: number;
  /** Total prefix length in bytes. */
  readonly length: number;
}

// Scratch for `hashPrefix` only (compile time), so `run` can hand back its state without a
// tuple allocation on the hot path.
const prefixOut = new Int32Array(4);

/**
 * Feeds the UTF-8 bytes of `s` into a hash in state (h, k, shift, len).
 * With `out` it stores the state there and returns 0; without, it returns the final hash.
 */
function run(h: number, k: number, shift: number, len: number, s: string, out: Int32Array | null): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let packed: number;
    let count: number;
    if (c < 0x80) {
      // ASCII fast path: one byte, inlined.
      k |= c << shift;
      shift += 8;
      len++;
      if (shift === 32) {
        k = Math.imul(k, C1);
        k = (k << 15) | (k >>> 17);
        h ^= Math.imul(k, C2);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        k = 0;
        shift = 0;
      }
      continue;
    } else if (c < 0x800) {
      packed = (0xc0 | (c >>> 6)) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        packed =
          (0xf0 | (cp >>> 18)) |
          ((0x80 | ((cp >>> 12) & 0x3f)) << 8) |
          ((0x80 | ((cp >>> 6) & 0x3f)) << 16) |
          ((0x80 | (cp & 0x3f)) << 24);
        count = 4;
        i++;
      } else {
        // Lone surrogate: U+FFFD, like TextEncoder.
        packed = 0xef | (0xbf << 8) | (0xbd << 16);
        count = 3;
      }
    } else {
      packed = (0xe0 | (c >>> 12)) | ((0x80 | ((c >>> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
      count = 3;
    }
    for (let j = 0; j < count; j++) {
      k |= ((packed >>> (j << 3)) & 0xff) << shift;
      shift += 8;
      len++;
      if (shift === 32) {
        k = Math.imul(k, C1);
        k = (k << 15) | (k >>> 17);
        h ^= Math.imul(k, C2);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        k = 0;
        shift = 0;
      }
    }
  }
  if (out !== null) {
    out[0] = h;
    out[1] = k;
    out[2] = shift >>> 3;
    out[3] = len;
    return 0;
  }
  if (shift !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `s`; an unsigned 32-bit integer. */
export function murmur3(s: string, seed = 0): number {
  return run(seed | 0, 0, 0, 0, s, null);
}

/** Precomputes the hash state after `prefix` (seed 0). Allocates: call it when compiling. */
export function hashPrefix(prefix: string): HashPrefix {
  run(0, 0, 0, 0, prefix, prefixOut);
  return { h: prefixOut[0], tail: prefixOut[1], tailBytes: prefixOut[2], length: prefixOut[3] };
}

/** `murmur3(prefix + s)` without building the concatenation. Hot path: no allocation. */
export function hashWithPrefix(p: HashPrefix, s: string): number {
  return run(p.h, p.tail, p.tailBytes << 3, p.length, s, null);
}

/** The unit hash of the spec: MurmurHash3 (seed 0) of the UTF-8 bytes of `${salt}:${unitId}`. */
export function hashUnit(salt: string, unitId: string): number {
  return murmur3(`${salt}:${unitId}`);
}

/*
 * Encode once, hash many: evaluation hashes the same unit id with one prefix per layer and per
 * experiment, so it UTF-8-encodes the id once into a module-level scratch buffer and then hashes
 * whole 4-byte blocks from it. The buffer only grows (to the longest id seen); JavaScript is
 * single-threaded and nothing runs between `encodeUnit` and the `hashEncoded` calls that use it
 * except targeting predicates, which never touch it.
 */
let scratch = new Uint8Array(256);

/** UTF-8-encodes `s` (lone surrogates as U+FFFD) into the scratch buffer; returns the byte length. */
export function encodeUnit(s: string): number {
  const n = s.length;
  // 3 bytes per UTF-16 unit is the worst case (a surrogate pair is 2 units → 4 bytes).
  if (n * 3 > scratch.length) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  const b = scratch;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >>> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        b[p++] = 0xf0 | (cp >>> 18);
        b[p++] = 0x80 | ((cp >>> 12) & 0x3f);
        b[p++] = 0x80 | ((cp >>> 6) & 0x3f);
        b[p++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        b[p++] = 0xef;
        b[p++] = 0xbf;
        b[p++] = 0xbd;
      }
    } else {
      b[p++] = 0xe0 | (c >>> 12);
      b[p++] = 0x80 | ((c >>> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/**
 * `murmur3(prefix + unit)` where the unit's `len` bytes were just written by `encodeUnit`.
 * Hot path: no allocation, whole blocks read from the buffer.
 */
export function hashEncoded(p: HashPrefix, len: number): number {
  const b = scratch;
  let h = p.h;
  let k = p.tail;
  let shift = p.tailBytes << 3;
  let i = 0;
  // Complete the prefix's partial block byte by byte.
  if (shift !== 0) {
    while (i < len) {
      k |= b[i++] << shift;
      shift += 8;
      if (shift === 32) {
        k = Math.imul(k, C1);
        k = (k << 15) | (k >>> 17);
        h ^= Math.imul(k, C2);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        k = 0;
        shift = 0;
        break;
      }
    }
  }
  // Whole blocks, only once the partial block is complete.
  if (shift === 0) {
    const blocksEnd = i + ((len - i) & ~3);
    for (; i < blocksEnd; i += 4) {
      k = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, C2);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    k = 0;
    for (; i < len; i++) {
      k |= b[i] << shift;
      shift += 8;
    }
  }
  if (shift !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= p.length + len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
