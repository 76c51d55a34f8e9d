import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The published bucketing vectors (libs/bucketing/test/vectors.json), typed, for every suite that
 * must agree with the bucketing library: its own, the SDK's, the API's. Read as data, so no suite
 * imports another project's files. Regenerate with `node libs/bucketing/test/generate-vectors.mjs`.
 */

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

const data: { vectors: BucketingVector[]; holdouts: HoldoutVector[]; ships: ShipVector[] } = JSON.parse(
  readFileSync(join(__dirname, '../../bucketing/test/vectors.json'), 'utf8'),
);

export const BUCKETING_VECTORS: readonly BucketingVector[] = data.vectors;

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
