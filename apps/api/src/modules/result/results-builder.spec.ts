import { resultsQuerySchema } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import type { AnalysisDefinition, AnalysisMetric } from './analysis-definition';
import { buildGuardrails, buildResults, EMPTY_ARM, type ArmAggregate, type MetricAggregates } from './results-builder';
import { inlineParameters, sqlLiteral } from './rollup-sql';

const metric = (over: Partial<AnalysisMetric> = {}): AnalysisMetric => ({
  key: 'm', name: 'M', type: 'conversion', eventName: 'e', denominatorEventName: null, direction: 'increase', winsorizePercentile: null,
  harmThreshold: 0.05, attributionWindowHours: null, cupedLookbackDays: 0, role: 'primary', isGuardrail: false, ...over,
});
const def = (metrics: AnalysisMetric[]): AnalysisDefinition => ({
  key: 'x', status: 'running', variants: [{ key: 'control', name: 'control', weight: 0.5 }, { key: 'treatment', name: 'treatment', weight: 0.5 }],
  startedAt: new Date(), stoppedAt: null, plannedSampleSize: null, autoStop: false, alerts: [], metrics, segmentDimensions: [],
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
});

describe('SQL literals for the SQL export', () => {
  it('doubles quotes and never re-reads an inlined literal as a placeholder', () => {
    expect(sqlLiteral("o'neil")).toBe("'o''neil'");
    expect(inlineParameters('SELECT $1, $2, $10', ['$2', 5, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'ten'])).toBe("SELECT '$2', 5, 'ten'");
    expect(sqlLiteral(['a', "b'c"])).toBe("ARRAY['a', 'b''c']::text[]");
    expect(sqlLiteral(null)).toBe('NULL');
  });
});
