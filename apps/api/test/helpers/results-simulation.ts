import { resultsQuerySchema } from '@strata/contracts';
import { createRng, type Rng } from '@strata/stats';
import type { AnalysisDefinition, AnalysisMetric } from '../../src/modules/result/analysis-definition';
import { EMPTY_ARM, type ArmAggregate, type MetricAggregates } from '../../src/modules/result/results-builder';
import { buildResults } from '../../src/modules/result/results-decision';
import { foldInMemory } from '../../src/modules/result/sequential-fold';

/**
 * Seeded simulations of the results path (issue 15): every peek runs what GET /results runs for a
 * started experiment — the stored states in (as the JSON the jsonb column gives back), SequentialFold,
 * buildResults (folded sequential numbers, the correction on the running p, effectVerdict, the
 * minimum duration, the anytime-valid SRM), the kept writes out as JSON — only the SQL around it is
 * replaced by a Map (foldInMemory). 1,000 experiments × 50 peeks per scenario, alpha 0.05, as the
 * issue asks (STRATA_SIM_EXPERIMENTS for a quicker local run). The scenarios are split over three
 * spec files (results-simulation-*.spec.ts) so Vitest runs them on both cores.
 */

const EXPERIMENTS = Number(process.env.STRATA_SIM_EXPERIMENTS ?? 1000);
/** Per scenario: 1,000 experiments take 10–50 s, depending on what else the machine runs. */
export const SIMULATION_TIMEOUT_MS = 300_000;
const PEEKS = 50;
const query = resultsQuerySchema.parse({});

const metric = (type: 'conversion' | 'mean'): AnalysisMetric => ({
  key: 'm', name: 'm', type, eventName: 'e', denominatorEventName: null, direction: 'increase', winsorizePercentile: null,
  harmThreshold: null, attributionWindowHours: null, cupedLookbackDays: 0, role: 'primary', isGuardrail: false,
});
const definition = (type: 'conversion' | 'mean', weights: [number, number], planned: number): AnalysisDefinition => ({
  key: 'sim', status: 'running', variants: [{ key: 'control', name: 'control', weight: weights[0] }, { key: 'treatment', name: 'treatment', weight: weights[1] }],
  startedAt: new Date('2026-01-01T00:00:00Z'), stoppedAt: null, plannedSampleSize: planned, minDurationDays: 0, autoStop: false, alerts: [],
  metrics: [metric(type)], segmentDimensions: [],
});

/** Binomial(n, p): exact Bernoulli sum for small n·p, else the normal approximation (n·p ≥ 500 here). */
function binomial(rng: Rng, n: number, p: number): number {
  if (n * p < 50) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rng.uniform() < p) k++;
    return k;
  }
  return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * rng.normal())));
}

export interface Scenario {
  type: 'conversion' | 'mean';
  weights: [number, number];
  /** Units over both arms at the last peek. */
  total: number;
  /** One unit's value in an arm (lift: treatment multiplier). */
  draw: (rng: Rng, arm: ArmAggregate, units: number, lift: number) => void;
  lift: number;
  planned: number;
}

export const conversion = (rate: number) => (rng: Rng, a: ArmAggregate, units: number, lift: number) => {
  const k = binomial(rng, units, rate * lift);
  a.sum += k;
  a.sumSq += k;
};
export const lognormal = (sigma: number) => (rng: Rng, a: ArmAggregate, units: number, lift: number) => {
  for (let i = 0; i < units; i++) {
    const y = lift * Math.exp(sigma * rng.normal());
    a.sum += y;
    a.sumSq += y * y;
  }
};

/** Runs the scenario; returns the share of experiments ever significant and whether any went back. */
export function simulate(s: Scenario, seed: number): { everSignificant: number; flips: number } {
  const rng = createRng(seed);
  const def = definition(s.type, s.weights, s.planned);
  let ever = 0;
  let flips = 0;
  for (let x = 0; x < EXPERIMENTS; x++) {
    const stored = new Map<string, string>();
    const arms = { control: { ...EMPTY_ARM }, treatment: { ...EMPTY_ARM } };
    let was = false;
    let assigned = 0;
    for (let peek = 1; peek <= PEEKS; peek++) {
      const target = Math.round((s.total * peek) / PEEKS);
      const batch = target - assigned;
      assigned = target;
      const nt = binomial(rng, batch, s.weights[1]);
      s.draw(rng, arms.control, batch - nt, 1);
      s.draw(rng, arms.treatment, nt, s.lift);
      arms.control.n += batch - nt;
      arms.treatment.n += nt;
      const aggregates: MetricAggregates = new Map([['m', new Map([['control', { ...arms.control }], ['treatment', { ...arms.treatment }]])]]);
      const units = new Map([['control', arms.control.n], ['treatment', arms.treatment.n]]);
      const at = new Date(Date.UTC(2026, 0, 2) + peek * 3_600_000);
      const r = foldInMemory(stored, new Map(), s.planned, at.toISOString(), (fold) => buildResults(def, aggregates, units, query, at, at, fold));
      const significant = r.decision.hint === 'ship' || r.decision.hint === 'stop_for_harm';
      if (was && !significant) flips++;
      was = was || significant;
    }
    if (was) ever++;
  }
  console.info(`simulation seed ${seed} lift ${s.lift} weights ${s.weights.join('/')} ${s.type}: ever significant ${ever}/${EXPERIMENTS}, flips ${flips}`);
  return { everSignificant: ever / EXPERIMENTS, flips };
}

