import { describe, expect, it } from 'vitest';
import {
  advanceSequentialState,
  applySequentialState,
  createRng,
  resultsTable,
  sampleSizeSequential,
  sequentialObservation,
  sequentialStateKey,
  type ArmStats,
  type Estimate,
  type MetricInput,
  type Rng,
  type SequentialState,
} from '../src';

/**
 * Issue 15 acceptance, library level: seeded experiments peeked 50 times through resultsTable (the
 * function the results API calls) plus the monotone sequential state the engine will persist
 * (advanceSequentialState / applySequentialState, fed by sequentialObservation). alpha 0.05.
 *
 * - false positive rate ("ever significant" over 50 peeks) ≤ 5% on conversion 5% and lognormal
 *   σ = 2, for 50/50 and 90/10 splits;
 * - a decision never goes from significant back to not significant;
 * - power ≥ 80% for a true 3% relative lift at the per-arm size sampleSizeSequential gives.
 *
 * Lognormal revenue is winsorized at its p99.9 (the library default for mean metrics,
 * DEFAULT_WINSORIZATION): the engine caps at the pooled empirical p99.9 of the data, which the
 * population quantile exp(σ·z_0.999) stands in for here.
 *
 * Size: STATS_SIM_EXPERIMENTS (default 1,000) experiments per scenario; set it lower for a quick run.
 * The lognormal power run draws ~1M units per experiment unit by unit (~130 s for 200 runs), so it
 * only runs with STATS_SIM_LARGE=1; the conversion power run (binomial batches) always runs.
 */
const LARGE = process.env.STATS_SIM_LARGE === '1';
if (!LARGE) console.warn('verdict-simulation: lognormal power run skipped (opt-in, set STATS_SIM_LARGE=1; ~130 s)');
const ALPHA = 0.05;
const EXPERIMENTS = Number(process.env.STATS_SIM_EXPERIMENTS ?? 1000);
const PEEKS = 50;
const FAMILIES = ['absolute', 'relative', 'msprt'] as const;
type Family = (typeof FAMILIES)[number];
const LOGNORMAL_CAP = Math.exp(2 * 3.090232306167813);

interface Arm extends ArmStats {
  n: number;
  sum: number;
  sumSq: number;
}

interface Scenario {
  name: string;
  kind: 'mean' | 'proportion';
  /** Share of units in control. */
  controlShare: number;
  totalUnits: number;
  draw(rng: Rng, treatment: boolean): number;
}

interface Outcome {
  /** Share of experiments significant at any peek, per family, with the monotone state. */
  everSignificant: Record<Family, number>;
  /** Significant → not significant transitions seen with the state (must be 0). */
  flipsWithState: number;
  /** The same transitions on the stateless table (the defect). */
  flipsWithoutState: number;
}

function estimateOf(sequential: { absolute: Estimate; relative: Estimate; msprt: Estimate }, f: Family): Estimate {
  return sequential[f];
}

function run(seed: number, s: Scenario, plannedSampleSize: number, experiments = EXPERIMENTS): Outcome {
  const rng = createRng(seed);
  const hits: Record<Family, number> = { absolute: 0, relative: 0, msprt: 0 };
  let flipsWithState = 0;
  let flipsWithoutState = 0;
  const schedule = Array.from({ length: PEEKS }, (_, k) => Math.ceil(((k + 1) * s.totalUnits) / PEEKS));
  const keys = Object.fromEntries(
    FAMILIES.map((f) => [
      f,
      sequentialStateKey({ alpha: ALPHA, correction: 'e-bh', cuped: false, metricDefinitionHash: s.name, scale: f }),
    ]),
  ) as Record<Family, string>;
  for (let e = 0; e < experiments; e++) {
    const control: Arm = { n: 0, sum: 0, sumSq: 0 };
    const treatment: Arm = { n: 0, sum: 0, sumSq: 0 };
    const state: Record<Family, SequentialState | null> = { absolute: null, relative: null, msprt: null };
    const shown: Record<Family, boolean> = { absolute: false, relative: false, msprt: false };
    const raw: Record<Family, boolean> = { absolute: false, relative: false, msprt: false };
    let units = 0;
    for (const target of schedule) {
      while (units < target) {
        const isTreatment = rng.uniform() >= s.controlShare;
        const y = s.draw(rng, isTreatment);
        const a = isTreatment ? treatment : control;
        a.n += 1;
        a.sum += y;
        a.sumSq += y * y;
        units += 1;
      }
      const metric: MetricInput = {
        name: s.name,
        kind: s.kind,
        control: { ...control },
        variants: [{ name: 'B', stats: { ...treatment } }],
      };
      const row = resultsTable([metric], { alpha: ALPHA, plannedSampleSize }).comparisons[0];
      for (const f of FAMILIES) {
        const est = estimateOf(row.sequential, f);
        const st = advanceSequentialState(state[f], sequentialObservation(est, keys[f], ALPHA));
        state[f] = st;
        const now = applySequentialState(est, st, ALPHA).significant;
        if (shown[f] && !now) flipsWithState += 1;
        shown[f] = now;
        if (raw[f] && !est.significant) flipsWithoutState += 1;
        raw[f] = est.significant;
      }
    }
    for (const f of FAMILIES) if (shown[f]) hits[f] += 1;
  }
  const everSignificant = Object.fromEntries(FAMILIES.map((f) => [f, hits[f] / experiments])) as Record<Family, number>;
  return { everSignificant, flipsWithState, flipsWithoutState };
}

const bernoulli =
  (pControl: number, pTreatment: number) =>
  (rng: Rng, t: boolean): number =>
    rng.uniform() < (t ? pTreatment : pControl) ? 1 : 0;
const lognormal =
  (lift: number) =>
  (rng: Rng, t: boolean): number =>
    Math.min(LOGNORMAL_CAP, Math.exp(2 * rng.normal())) * (t ? 1 + lift : 1);

const aa: Scenario[] = [
  { name: 'conversion 5% 50/50', kind: 'proportion', controlShare: 0.5, totalUnits: 20000, draw: bernoulli(0.05, 0.05) },
  { name: 'lognormal σ=2 50/50', kind: 'mean', controlShare: 0.5, totalUnits: 20000, draw: lognormal(0) },
  { name: 'conversion 5% 90/10', kind: 'proportion', controlShare: 0.9, totalUnits: 20000, draw: bernoulli(0.05, 0.05) },
  { name: 'lognormal σ=2 90/10', kind: 'mean', controlShare: 0.9, totalUnits: 10000, draw: lognormal(0) },
];

describe('A/A through resultsTable + monotone state, 50 peeks', () => {
  it.each(aa.map((s, i) => [s.name, s, i] as const))(
    'keeps the false positive rate ≤ 5%% for %s',
    (name, s, i) => {
      const r = run(15_0700 + i, s, s.totalUnits / 2);
      console.log(`${name}: ever significant`, r.everSignificant, `flips with state ${r.flipsWithState}, without ${r.flipsWithoutState}`);
      for (const f of FAMILIES) expect(r.everSignificant[f]).toBeLessThanOrEqual(ALPHA);
      expect(r.flipsWithState).toBe(0);
      // The stateless table does flip (the defect the state fixes).
      expect(r.flipsWithoutState).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe('A/B with a true 3% relative lift, 50 peeks', () => {
  it('reaches 80% power on a 5% conversion rate at the per-arm size sampleSizeSequential gives, and never un-rejects', () => {
    // 5% → 5.15% needs ~660k units per arm: drawn per peek as binomial batches (normal
    // approximation to the binomial, ≥ 600 expected conversions per batch) instead of unit by unit.
    const plan = sampleSizeSequential({ baselineRate: 0.05, mde: 0.03, alpha: ALPHA, power: 0.8 });
    const n = plan.perArm;
    const rng = createRng(150_777);
    const key = sequentialStateKey({ alpha: ALPHA, correction: 'e-bh', cuped: false, metricDefinitionHash: 'power', scale: 'relative' });
    const batch = (m: number, p: number) => Math.max(0, Math.min(m, Math.round(m * p + Math.sqrt(m * p * (1 - p)) * rng.normal())));
    let detected = 0;
    let flips = 0;
    const runs = Math.min(EXPERIMENTS, 1000);
    for (let e = 0; e < runs; e++) {
      const c = { n: 0, sum: 0, sumSq: 0 };
      const t = { n: 0, sum: 0, sumSq: 0 };
      let st: SequentialState | null = null;
      let was = false;
      for (let k = 1; k <= PEEKS; k++) {
        const target = Math.ceil((k * n) / PEEKS);
        const m = target - c.n;
        c.sum += batch(m, 0.05);
        t.sum += batch(m, 0.05 * 1.03);
        c.n = t.n = target;
        c.sumSq = c.sum;
        t.sumSq = t.sum;
        const row = resultsTable([{ name: 'cr', kind: 'proportion', control: { ...c }, variants: [{ name: 'B', stats: { ...t } }] }], {
          alpha: ALPHA,
          plannedSampleSize: n,
        }).comparisons[0];
        st = advanceSequentialState(st, sequentialObservation(row.sequential.relative, key, ALPHA));
        const now = applySequentialState(row.sequential.relative, st, ALPHA).significant;
        if (was && !now) flips += 1;
        was = now;
      }
      if (was) detected += 1;
    }
    console.log(`3% lift on 5% conversions at ${n}/arm: power ${detected}/${runs}`);
    expect(detected / runs).toBeGreaterThanOrEqual(0.8);
    expect(flips).toBe(0);
  }, 120_000);

  it.runIf(LARGE)(
    'reaches 80% power on lognormal σ = 2 revenue (winsorized) at the per-arm size for its mean and sd (STATS_SIM_LARGE=1)',
    () => {
      // Moments of the capped lognormal, estimated once from 2e6 seeded draws (the planning input).
      const rng = createRng(150_778);
      let s1 = 0;
      let s2 = 0;
      const m = 2_000_000;
      for (let i = 0; i < m; i++) {
        const y = lognormal(0)(rng, false);
        s1 += y;
        s2 += y * y;
      }
      const baselineMean = s1 / m;
      const baselineSd = Math.sqrt(s2 / m - baselineMean ** 2);
      const n = sampleSizeSequential({ baselineMean, baselineSd, mde: 0.03, alpha: ALPHA, power: 0.8 }).perArm;
      const runs = Math.min(EXPERIMENTS, 200);
      const r = run(
        150_779,
        { name: 'lognormal power', kind: 'mean', controlShare: 0.5, totalUnits: 2 * n, draw: lognormal(0.03) },
        n,
        runs,
      );
      console.log(
        `3% lift on capped lognormal (mean ${baselineMean.toFixed(2)}, sd ${baselineSd.toFixed(2)}) at ${n}/arm: power`,
        r.everSignificant,
        `(${runs} runs)`,
      );
      expect(r.everSignificant.relative).toBeGreaterThanOrEqual(0.8);
      expect(r.flipsWithState).toBe(0);
    },
    300_000,
  );
});
