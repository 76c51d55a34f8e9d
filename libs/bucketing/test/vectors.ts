/**
 * The published bucketing vectors, typed, for any test suite that must agree with this library
 * (the API's, the SDK's): import from a relative path, e.g.
 * `import { BUCKETING_VECTORS } from '../../../libs/bucketing/test/vectors'`.
 * Regenerate vectors.json with `node libs/bucketing/test/generate-vectors.mjs`.
 */
import data from './vectors.json';

export interface BucketingVector {
  /** What the id exercises (ascii, emoji, lone surrogate, 1 KB…). */
  note: string;
  /** The id, always well-formed: lone surrogates appear as U+FFFD, which hashes identically. */
  unitId: string;
  /** Only for ids with lone surrogates (which strict JSON parsers reject): the raw UTF-16 code units. */
  unitIdUtf16?: number[];
  layerSalt: string;
  experimentSalt: string;
  variants: string[];
  weights: number[];
  /** MurmurHash3 x86 32 (seed 0) of UTF-8 `${layerSalt}:${unitId}`. */
  layerHash: number;
  /** layerHash mod 10000. */
  bucket: number;
  /** MurmurHash3 x86 32 (seed 0) of UTF-8 `${experimentSalt}:${unitId}`. */
  variantHash: number;
  /** variantHash / 2^32. */
  u: number;
  variantIndex: number;
  variant: string;
}

export const BUCKETING_VECTORS: readonly BucketingVector[] = data.vectors;

export interface HoldoutVector {
  note: string;
  unitId: string;
  unitIdUtf16?: number[];
  holdoutSalt: string;
  share: number;
  /** MurmurHash3 x86 32 (seed 0) of UTF-8 `${holdoutSalt}:${unitId}`. */
  holdoutHash: number;
  /** holdoutHash / 2^32. */
  u: number;
  /** u < share: the unit gets no assignment in the holdout's layers. */
  inHoldout: boolean;
}

export const HOLDOUT_VECTORS: readonly HoldoutVector[] = data.holdouts;

export interface ShipVector {
  note: string;
  unitId: string;
  unitIdUtf16?: number[];
  experimentSalt: string;
  /** Rising ship shares of a staged ship. */
  shipShares: number[];
  /** MurmurHash3 x86 32 (seed 0) of UTF-8 `${experimentSalt}:ship:${unitId}`. */
  shipHash: number;
  /** shipHash / 2^32. */
  u: number;
  /** Per share: u < share (always true at 1) — the unit in targeting gets the shipped variant. */
  shipped: boolean[];
}

export const SHIP_VECTORS: readonly ShipVector[] = data.ships;

/** The id exactly as a JavaScript caller would pass it (with its lone surrogates, if any). */
export function rawUnitId(v: { unitId: string; unitIdUtf16?: number[] }): string {
  return v.unitIdUtf16 ? String.fromCharCode(...v.unitIdUtf16) : v.unitId;
}
