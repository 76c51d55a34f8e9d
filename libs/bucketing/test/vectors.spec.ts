import { describe, expect, it } from 'vitest';
import { compileSnapshot, evaluate, evaluateExperiment, explain, hashUnit, inHoldout, inShipShare, layerBucket, murmur3, pickVariant, shipDraw, variantDraw } from '../src';
import { BUCKETING_VECTORS, experiment, HOLDOUT_VECTORS, layer, rawUnitId, SHIP_VECTORS, snapshot } from '@strata/test-support';

describe('published vectors', () => {
  it('covers ASCII, unicode, emoji, empty, lone-surrogate and 1 KB ids', () => {
    const notes = new Set(BUCKETING_VECTORS.map((v) => v.note));
    for (const n of ['ascii', 'empty string', 'CJK (3-byte UTF-8)', 'emoji (surrogate pairs, 4-byte UTF-8)', '1 KB ascii id']) expect(notes).toContain(n);
  });

  it('publishes lone-surrogate ids as code units that hash like their U+FFFD form', () => {
    const lone = BUCKETING_VECTORS.filter((v) => v.unitIdUtf16);
    expect(lone.length).toBeGreaterThan(0);
    for (const v of lone) expect(hashUnit(v.layerSalt, rawUnitId(v))).toBe(v.layerHash);
  });

  it.each(BUCKETING_VECTORS.map((v, i) => [i, v.note, v] as const))('vector %i (%s): hash, bucket and variant agree', (_i, _note, v) => {
    expect(hashUnit(v.layerSalt, v.unitId)).toBe(v.layerHash);
    expect(murmur3(`${v.experimentSalt}:${v.unitId}`)).toBe(v.variantHash);
    const exp = experiment('e', 'L', {
      salt: v.experimentSalt,
      variants: v.variants.map((key, i) => ({ key, weight: v.weights[i] })),
      ranges: [{ start: v.bucket, end: v.bucket + 1 }],
    });
    const c = compileSnapshot(snapshot([layer('L', v.layerSalt)], [exp]));
    expect(layerBucket(c.layers[0], v.unitId)).toBe(v.bucket);
    expect(variantDraw(c.experiments[0], v.unitId)).toBe(v.u);
    expect(pickVariant(c.experiments[0].cumulative, v.u)).toBe(v.variantIndex);
    expect(evaluateExperiment(c, 'e', v.unitId)).toEqual({ experiment: 'e', layer: 'L', variant: v.variant, reason: 'bucketed' });
  });
});

describe('published holdout vectors', () => {
  it('hold some ids out and leave others in', () => {
    expect(HOLDOUT_VECTORS.some((v) => v.inHoldout)).toBe(true);
    expect(HOLDOUT_VECTORS.some((v) => !v.inHoldout)).toBe(true);
  });

  it.each(HOLDOUT_VECTORS.map((v, i) => [i, v.note, v] as const))('holdout vector %i (%s): hash, draw and membership agree, and evaluation honours it', (_i, _note, v) => {
    const unitId = rawUnitId(v);
    expect(hashUnit(v.holdoutSalt, unitId)).toBe(v.holdoutHash);
    const c = compileSnapshot({
      ...snapshot([layer('L'), layer('free')], [experiment('e', 'L'), experiment('f', 'free')]),
      holdouts: [{ key: 'h', salt: v.holdoutSalt, share: v.share, layers: ['L'] }],
    });
    expect(inHoldout(c.holdouts[0], unitId)).toBe(v.inHoldout);
    expect(evaluateExperiment(c, 'e', unitId) === null).toBe(v.inHoldout);
    // A layer the holdout does not cover is unaffected.
    expect(evaluateExperiment(c, 'f', unitId)).not.toBeNull();
  });
});

describe('published ship vectors', () => {
  it('give the winner to some ids and not to others at a partial share, and are monotone in the share', () => {
    expect(SHIP_VECTORS.some((v) => v.shipped[0])).toBe(true);
    expect(SHIP_VECTORS.some((v) => !v.shipped[0])).toBe(true);
    for (const v of SHIP_VECTORS) v.shipped.forEach((s, i) => i > 0 && v.shipped[i - 1] && expect(s).toBe(true));
  });

  it.each(SHIP_VECTORS.map((v, i) => [i, v.note, v] as const))('ship vector %i (%s): hash, draw and the winner at each share agree', (_i, _note, v) => {
    const unitId = rawUnitId(v);
    expect(hashUnit(`${v.experimentSalt}:ship`, unitId)).toBe(v.shipHash);
    v.shipShares.forEach((shipShare, i) => {
      const exp = experiment('e', 'L', { salt: v.experimentSalt, status: 'shipped', ranges: [], shippedVariant: 'treatment', shipShare });
      const c = compileSnapshot(snapshot([layer('L')], [exp]));
      expect(inShipShare(c.experiments[0], unitId)).toBe(v.shipped[i]);
      expect(shipDraw(c.experiments[0], unitId)).toBe(shipShare < 1 ? v.u : null);
      const want = v.shipped[i] ? { experiment: 'e', layer: 'L', variant: 'treatment', reason: 'shipped' } : null;
      expect(evaluateExperiment(c, 'e', unitId)).toEqual(want);
      expect(evaluate(c, unitId)).toEqual(want === null ? [] : [want]);
      expect(explain(c, unitId, {}, 'e')).toMatchObject({ outcome: v.shipped[i] ? 'shipped' : 'outside_ship_share', assignment: want });
    });
  });
});
