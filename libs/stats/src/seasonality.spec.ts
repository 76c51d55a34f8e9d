import { describe, expect, it } from 'vitest';
import { expectRelClose } from '../test/helpers';
import { verdictReference as ref } from '../test/reference/verdict-reference-values';
import { confidenceSequenceFromMoments } from './confidence-sequence';
import { StatsInputError } from './input-error';
import { createRng, type Rng } from './random';
import {
  groupEffect,
  holm,
  mergeSmallStrata,
  minDurationCheck,
  noveltyTrend,
  postStratify,
  segmentHeterogeneity,
  type CohortEffect,
  type SegmentEffect,
  type Stratum,
} from './seasonality';
import type { ArmStats, CovariateArmStats } from './types';

const ALPHA = 0.05;

function normalArm(rng: Rng, n: number, mean: number, sd: number): ArmStats {
  const a = { n, sum: 0, sumSq: 0 };
  for (let i = 0; i < n; i++) {
    const y = mean + sd * rng.normal();
    a.sum += y;
    a.sumSq += y * y;
  }
  return a;
}

describe('noveltyTrend', () => {
  it('matches numpy weighted least squares with the Knapp–Hartung factor', () => {
    const n = ref.novelty;
    const cohorts = n.days.map((day, i) => ({ day, estimate: n.estimates[i], variance: n.variances[i] }));
    const r = noveltyTrend(cohorts);
    expectRelClose(r.slope, n.slope, 1e-12);
    expectRelClose(r.slopeStandardError, n.se, 1e-12);
    expectRelClose(r.pValue, n.pValue, 1e-9);
    expect(r).toMatchObject({ flagged: true, pattern: 'fading' });
  });

  // 14 exposure-day cohorts, 300 units per arm per cohort, sd 2.
  const cohortsOf = (rng: Rng, effect: (day: number) => number): CohortEffect[] =>
    Array.from({ length: 14 }, (_, day) => {
      const g = groupEffect(normalArm(rng, 300, 10, 2), normalArm(rng, 300, 10 + effect(day), 2));
      if (!g) throw new Error('undefined cohort');
      return { day, ...g };
    });

  it('flags a fading effect (0.6 on day 0 down to 0 by day 13) as novelty', () => {
    const rng = createRng(15001);
    let flagged = 0;
    for (let e = 0; e < 200; e++) {
      const r = noveltyTrend(cohortsOf(rng, (d) => 0.6 * (1 - d / 13)));
      if (r.flagged && r.pattern === 'fading') flagged += 1;
    }
    console.log(`novelty power on a fading effect: ${flagged}/200`);
    expect(flagged / 200).toBeGreaterThanOrEqual(0.8);
  });

  it('flags a constant effect no more often than alpha (1,000 seeded experiments)', { timeout: 60_000 }, () => {
    const rng = createRng(15002);
    let flagged = 0;
    for (let e = 0; e < 1000; e++) if (noveltyTrend(cohortsOf(rng, () => 0.3)).flagged) flagged += 1;
    console.log(`novelty false alarms on a constant effect: ${flagged}/1000 at alpha ${ALPHA}`);
    // The plain z-test gave 5.5% here; the Knapp–Hartung factor brings it to 2.4%.
    expect(flagged / 1000).toBeLessThanOrEqual(ALPHA);
  });

  it('needs 3 cohorts and rejects non-positive variances', () => {
    expect(noveltyTrend([{ day: 0, estimate: 1, variance: 1 }]).defined).toBe(false);
    expect(() => noveltyTrend([{ day: 0, estimate: 1, variance: 0 }])).toThrow(StatsInputError);
  });
});

describe('segmentHeterogeneity', () => {
  it("matches numpy/scipy Cochran's Q and Holm across dimensions", () => {
    const dims = ref.cochran.map((d) => ({
      dimension: d.dimension,
      segments: d.estimates.map((estimate, i) => ({ segment: `s${i}`, estimate, variance: d.variances[i] })),
    }));
    const r = segmentHeterogeneity(dims);
    r.forEach((x, i) => {
      expectRelClose(x.q, ref.cochran[i].q, 1e-12);
      expectRelClose(x.pValue, ref.cochran[i].pValue, 1e-9);
      expectRelClose(x.adjustedPValue, ref.cochran[i].holm, 1e-9);
    });
    expect(r[0].flagged).toBe(true);
    expect(r[0].segments.filter((s) => s.highlighted).map((s) => s.segment)).toEqual(['s2']);
    expect(r[1].flagged).toBe(false);
  });

  const countries = ['US', 'DE', 'FR', 'BR', 'JP'];
  const platforms = ['ios', 'android', 'web'];
  const seg = (rng: Rng, name: string, effect: number): SegmentEffect => {
    const g = groupEffect(normalArm(rng, 400, 10, 2), normalArm(rng, 400, 10 + effect, 2));
    if (!g) throw new Error('undefined segment');
    return { segment: name, ...g };
  };

  it('flags an effect present in one country only and highlights that country', () => {
    const rng = createRng(15003);
    let flagged = 0;
    let deHighlighted = 0;
    for (let e = 0; e < 100; e++) {
      const r = segmentHeterogeneity([
        { dimension: 'country', segments: countries.map((c) => seg(rng, c, c === 'DE' ? 0.8 : 0)) },
        { dimension: 'platform', segments: platforms.map((p) => seg(rng, p, 0.16)) },
      ]);
      if (r[0].flagged) flagged += 1;
      if (r[0].segments.find((s) => s.segment === 'DE')?.highlighted) deHighlighted += 1;
    }
    console.log(`one-country effect: country flagged ${flagged}/100, DE highlighted ${deHighlighted}/100`);
    expect(flagged).toBeGreaterThanOrEqual(90);
    expect(deHighlighted).toBeGreaterThanOrEqual(80);
  });

  it('flags homogeneous effects (any dimension, after Holm) no more often than alpha', { timeout: 60_000 }, () => {
    const rng = createRng(15004);
    let any = 0;
    for (let e = 0; e < 1000; e++) {
      const r = segmentHeterogeneity([
        { dimension: 'country', segments: countries.map((c) => seg(rng, c, 0.2)) },
        { dimension: 'platform', segments: platforms.map((p) => seg(rng, p, 0.2)) },
      ]);
      if (r.some((x) => x.flagged)) any += 1;
    }
    console.log(`heterogeneity false alarms on homogeneous data: ${any}/1000 at alpha ${ALPHA}`);
    expect(any / 1000).toBeLessThanOrEqual(ALPHA);
  });

  it('holm is monotone in the ordered p-values', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
  });
});

describe('postStratify', () => {
  it('matches numpy on raw per-stratum data with N_h/N weights', () => {
    const strata: Stratum[] = ref.postStratification.strata.map((s, i) => ({ name: `r${i}`, control: s.control, treatment: s.treatment }));
    const r = postStratify(strata);
    if (!r.absolute.ok) throw new Error(r.absolute.reason);
    expectRelClose(r.absolute.estimate, ref.postStratification.estimate, 1e-9);
    expectRelClose(r.absolute.variance, ref.postStratification.variance, 1e-9);
  });

  it('matches numpy on post-stratified CUPED: θ the within-cell least-squares slope (cell dummies), then PS of y − θx', () => {
    const ref2 = ref.postStratifiedCuped;
    const strata: Stratum[] = ref2.strata.map((s, i) => ({ name: `r${i}`, control: s.control, treatment: s.treatment }));
    const r = postStratify(strata, { cuped: true });
    if (!r.absolute.ok) throw new Error(r.absolute.reason);
    expect(r.cuped.applied).toBe(true);
    expectRelClose(r.cuped.theta, ref2.theta, 1e-9);
    expectRelClose(r.absolute.estimate, ref2.estimate, 1e-9);
    expectRelClose(r.absolute.variance, ref2.variance, 1e-9);
  });

  // Regions with baselines 5, 10, 20 and 40 (sd 2 within a region) and a 0.3 lift everywhere.
  function regions(rng: Rng, withCovariate: boolean): Stratum[] {
    return [5, 10, 20, 40].map((base, h) => {
      const arm = (n: number, lift: number): CovariateArmStats => {
        const a = { n, sum: 0, sumSq: 0, covSum: 0, covSumSq: 0, crossSum: 0 };
        for (let i = 0; i < n; i++) {
          const x = base + 1.5 * rng.normal();
          const y = withCovariate ? base + lift + 0.9 * (x - base) + 1 * rng.normal() : base + lift + 2 * rng.normal();
          a.sum += y;
          a.sumSq += y * y;
          a.covSum += x;
          a.covSumSq += x * x;
          a.crossSum += x * y;
        }
        return a;
      };
      return { name: `region-${h}`, control: arm(500, 0), treatment: arm(500, 0.3) };
    });
  }

  const pooled = (strata: Stratum[]): ArmStats[] =>
    (['control', 'treatment'] as const).map((k) =>
      strata.reduce((a, s) => ({ n: a.n + s[k].n, sum: a.sum + s[k].sum, sumSq: a.sumSq + s[k].sumSq }), { n: 0, sum: 0, sumSq: 0 }),
    );

  it('narrows the always-valid interval when regions differ strongly in baseline', () => {
    const strata = regions(createRng(15005), false);
    const [c, t] = pooled(strata);
    const plainWidth = widthOf(confidenceSequenceFromMoments(momentsOf(c, t), c.n, t.n));
    const ps = postStratify(strata);
    const psWidth = widthOf(confidenceSequenceFromMoments(ps.absolute, ps.nControl, ps.nTreatment));
    console.log(`CI width: unstratified ${plainWidth.toFixed(3)}, post-stratified ${psWidth.toFixed(3)}`);
    expect(psWidth).toBeLessThan(0.3 * plainWidth);
  });

  it('combines with CUPED: post-stratified CUPED is narrower than post-stratification alone', () => {
    const strata = regions(createRng(15006), true);
    const ps = postStratify(strata);
    const both = postStratify(strata, { cuped: true });
    expect(both.cuped.applied).toBe(true);
    const a = widthOf(confidenceSequenceFromMoments(ps.absolute, ps.nControl, ps.nTreatment));
    const b = widthOf(confidenceSequenceFromMoments(both.absolute, both.nControl, both.nTreatment));
    expect(b).toBeLessThan(0.8 * a);
  });

  it('stays unbiased and covers at its level, with and without CUPED (300 seeded experiments)', { timeout: 60_000 }, () => {
    const rng = createRng(15007);
    for (const cuped of [false, true]) {
      let sum = 0;
      let covered = 0;
      for (let e = 0; e < 300; e++) {
        const r = postStratify(regions(rng, cuped), { cuped });
        if (!r.absolute.ok) throw new Error(r.absolute.reason);
        sum += r.absolute.estimate;
        if (Math.abs(r.absolute.estimate - 0.3) <= 1.959963984540054 * Math.sqrt(r.absolute.variance)) covered += 1;
      }
      console.log(`post-stratification${cuped ? ' + CUPED' : ''}: mean estimate ${(sum / 300).toFixed(4)} (true 0.3), 95% coverage ${covered}/300`);
      expect(Math.abs(sum / 300 - 0.3)).toBeLessThan(0.01);
      expect(covered / 300).toBeGreaterThanOrEqual(0.92);
    }
  });

  it('refuses strata with fewer than 2 units in an arm and merges small ones on request', () => {
    const tiny: Stratum = { name: 'tiny', control: { n: 1, sum: 1, sumSq: 1 }, treatment: { n: 5, sum: 5, sumSq: 7 } };
    const big: Stratum = { name: 'big', control: { n: 100, sum: 100, sumSq: 200 }, treatment: { n: 100, sum: 110, sumSq: 230 } };
    expect(postStratify([big, tiny]).absolute).toMatchObject({ ok: false });
    const merged = mergeSmallStrata([big, tiny, { ...tiny, name: 'tiny2' }]);
    expect(merged.map((s) => s.name)).toEqual(['big', '(other)']);
    expect(merged[1].control.n).toBe(2);
    expect(postStratify(merged).absolute.ok).toBe(true);
  });
});

describe('minDurationCheck', () => {
  it('waits for a full week and says until when', () => {
    const r = minDurationCheck('2026-11-01T10:00:00Z', '2026-11-05T10:00:00Z');
    expect(r.ready).toBe(false);
    expect(r.reason).toBe('waits for a full weekly cycle: 4.0 of 7 days run, ready to ship no earlier than 2026-11-08T10:00:00.000Z');
    expect(minDurationCheck('2026-11-01T10:00:00Z', '2026-11-08T10:00:00Z').ready).toBe(true);
    expect(minDurationCheck('2026-11-01T10:00:00Z', '2026-11-03T10:00:00Z', 2).ready).toBe(true);
    expect(() => minDurationCheck('not a date', '2026-11-03T10:00:00Z')).toThrow(StatsInputError);
  });
});

function widthOf(e: { ci: [number, number] | null }): number {
  if (!e.ci) throw new Error('undefined interval');
  return e.ci[1] - e.ci[0];
}

function momentsOf(c: ArmStats, t: ArmStats) {
  const g = groupEffect(c, t);
  if (!g) throw new Error('undefined');
  return { ok: true as const, estimate: g.estimate, variance: g.variance };
}
