import { resultsQuerySchema } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { buildGuardrails, EMPTY_ARM, type ArmAggregate, type MetricAggregates } from './results-builder';
import { buildResults } from './results-decision';
import { SequentialFold } from './sequential-fold';
import { inlineParameters, sqlLiteral } from './rollup-sql';

const metric = (over: Partial<AnalysisMetric> = {}): AnalysisMetric => ({
  key: 'm', name: 'M', type: 'conversion', eventName: 'e', denominatorEventName: null, direction: 'increase', winsorizePercentile: null,
  harmThreshold: 0.05, attributionWindowHours: null, cupedLookbackDays: 0, role: 'primary', isGuardrail: false, ...over,
});
const def = (metrics: AnalysisMetric[]): AnalysisDefinition => ({
  key: 'x', status: 'running', variants: [{ key: 'control', name: 'control', weight: 0.5 }, { key: 'treatment', name: 'treatment', weight: 0.5 }],
  startedAt: new Date(Date.now() - 8 * 86_400_000), stoppedAt: null, plannedSampleSize: null, minDurationDays: null, autoStop: false, alerts: [], metrics, segmentDimensions: [],
});
const conv = (n: number, rate: number): ArmAggregate => ({ ...EMPTY_ARM, n, sum: Math.round(n * rate), sumSq: Math.round(n * rate) });
const aggs = (key: string, c: ArmAggregate, t: ArmAggregate): MetricAggregates => new Map([[key, new Map([['control', c], ['treatment', t]])]]);

describe('guardrail rule', () => {
  it('flags harm when the whole sequential CI of the harmful change is above 0 and the estimate passes the threshold', () => {
    const errors = metric({ key: 'errors', direction: 'decrease', isGuardrail: true, role: 'guardrail' });
    const [g] = buildGuardrails(def([errors]), aggs('errors', conv(5000, 0.05), conv(5000, 0.1)), 0.05);
    expect(g.status).toBe('harm');
    expect(g.harmCi?.[0]).toBeGreaterThan(0);
  });

  it('orients harm by direction: a drop is harm for an increase metric, a rise is not', () => {
    const m = metric({ key: 'conv', isGuardrail: true, role: 'guardrail' });
    expect(buildGuardrails(def([m]), aggs('conv', conv(5000, 0.2), conv(5000, 0.1)), 0.05)[0].status).toBe('harm');
    expect(buildGuardrails(def([m]), aggs('conv', conv(5000, 0.1), conv(5000, 0.2)), 0.05)[0].status).toBe('ok');
  });

  it('does not flag harm below the threshold even when significant', () => {
    const m = metric({ key: 'conv', isGuardrail: true, role: 'guardrail', harmThreshold: 0.5 });
    expect(buildGuardrails(def([m]), aggs('conv', conv(50000, 0.2), conv(50000, 0.18)), 0.05)[0].status).toBe('ok');
  });

  it('reports insufficient data instead of guessing', () => {
    const m = metric({ key: 'conv', isGuardrail: true, role: 'guardrail' });
    expect(buildGuardrails(def([m]), aggs('conv', conv(1, 0), conv(0, 0)), 0.05)[0].status).toBe('insufficient_data');
  });
});

describe('decision hint', () => {
  const q = resultsQuerySchema.parse({});
  it('ships a significantly better treatment and keeps running when nothing is significant yet', () => {
    const m = metric();
    expect(buildResults(def([m]), aggs('m', conv(20000, 0.1), conv(20000, 0.13)), new Map([['control', 20000], ['treatment', 20000]]), q, new Date()).decision.hint).toBe('ship');
    expect(buildResults(def([m]), aggs('m', conv(200, 0.1), conv(200, 0.1)), new Map([['control', 200], ['treatment', 200]]), q, new Date()).decision.hint).toBe('keep_running');
  });
  it('says inconclusive on SRM', () => {
    const r = buildResults(def([metric()]), aggs('m', conv(2000, 0.1), conv(2000, 0.1)), new Map([['control', 4500], ['treatment', 5500]]), q, new Date());
    expect(r.srm?.flagged).toBe(true);
    expect(r.decision.hint).toBe('inconclusive');
  });

  it('keeps "ship" once the persisted running p was significant, where the per-read p would flip back', () => {
    const m = metric();
    const d = def([m]);
    const units = (n: number) => new Map([['control', n], ['treatment', n]]);
    // Read 1: 13% vs 10% on 6,000 per arm, significant. Read 2: 60,000 more per arm, 9.5% vs 10%.
    const early = aggs('m', conv(6000, 0.1), conv(6000, 0.13));
    const late = aggs('m', conv(66000, 0.1), { ...EMPTY_ARM, n: 66000, sum: 780 + 5700, sumSq: 780 + 5700 });
    const stateless = buildResults(d, late, units(66000), q, new Date());
    expect(stateless.decision.hint).not.toBe('ship');
    const f1 = new SequentialFold([], new Map(), 5000, 'r1');
    const first = buildResults(d, early, units(6000), q, new Date(), new Date(), f1);
    expect(first.decision.hint).toBe('ship');
    const f2 = new SequentialFold(f1.writes, new Map(), 5000, 'r2');
    const second = buildResults(d, late, units(66000), q, new Date(), new Date(), f2);
    expect(second.decision.hint).toBe('ship');
    const rel = second.metrics[0].variants[1].relative?.sequential;
    expect(rel?.pValue).toBe(first.metrics[0].variants[1].relative?.sequential.pValue);
    expect(rel?.adjustedPValue).toBeLessThanOrEqual(0.05);
    expect(rel?.sequence?.reads).toBe(2);
  });

  it('waits for the minimum duration (7 days by default, per experiment) before "ship", and says so', () => {
    const m = metric();
    const data = aggs('m', conv(20000, 0.1), conv(20000, 0.13));
    const units = new Map([['control', 20000], ['treatment', 20000]]);
    const young = { ...def([m]), startedAt: new Date(Date.now() - 3 * 86_400_000) };
    const r = buildResults(young, data, units, q, new Date());
    expect(r.readiness).toMatchObject({ ready: false, minDurationDays: 7 });
    expect(r.readiness?.daysRun).toBeCloseTo(3, 3);
    expect(r.decision.hint).toBe('keep_running');
    expect(r.decision.reason).toMatch(/improves m .*waits for a full weekly cycle: 3\.0 of 7 days/);
    expect(buildResults({ ...young, minDurationDays: 2 }, data, units, q, new Date()).decision.hint).toBe('ship');
    expect(buildResults(def([m]), data, units, q, new Date()).readiness?.ready).toBe(true);
  });

  it('flags SRM with the anytime-valid test, keeping the chi-square p as a labelled extra', () => {
    // 10,000 vs 10,480 on 50/50: chi-square p = 7.96e-4 < 0.001 (scipy.stats.chisquare([10000, 10480]).pvalue),
    // the Dirichlet-multinomial e-value (κ = 1000) is E = 46.06 (p = 0.0217, gammaln in scipy): not flagged.
    const r = buildResults(def([metric()]), aggs('m', conv(10000, 0.1), conv(10480, 0.1)), new Map([['control', 10000], ['treatment', 10480]]), q, new Date());
    expect(r.srm?.chiSquarePValue).toBeCloseTo(0.000796, 6);
    expect(r.srm?.method).toBe('srm-dirichlet-multinomial');
    expect(r.srm?.flagged).toBe(false);
    expect(r.srm?.pValue).toBeCloseTo(0.021709, 5);
    expect(r.decision.reason).not.toMatch(/ratio mismatch/);
  });
});

describe('SQL literals for the SQL export', () => {
  it('doubles quotes and never re-reads an inlined literal as a placeholder', () => {
    expect(sqlLiteral("o'neil")).toBe("'o''neil'");
    expect(inlineParameters('SELECT $1, $2, $10', ['$2', 5, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'ten'])).toBe("SELECT '$2', 5, 'ten'");
    expect(sqlLiteral(['a', "b'c"])).toBe("ARRAY['a', 'b''c']::text[]");
    expect(sqlLiteral(null)).toBe('NULL');
  });
});
