import type { DecisionHint, ExperimentResultsDto, MetricResultDto, ReadinessDto, ResultsQuery, SrmDto } from '@strata/contracts';
import { advanceSrmState, DEFAULT_MIN_DURATION_DAYS, effectVerdict, minDurationCheck, type SrmState } from '@strata/stats';
import type { AnalysisDefinition } from './analysis-definition';
import { buildMetricResults, buildSrm, estimateOf, guardrailsFromMetrics, plannedN, type MetricAggregates } from './results-builder';
import type { SequentialFold } from './sequential-fold';

/**
 * The verdict layer of the results: the anytime-valid SRM, the minimum-duration readiness and the
 * decision hint, all read from the persisted monotone state (folded numbers, stored SRM e-value),
 * so a hint cannot go from "Ready to ship" back to "Keep running" between two reads.
 */

/**
 * The results' SRM: today's counts folded into the stored anytime-valid state (Lindon & Malek
 * 2022, Dirichlet-multinomial mixture e-value; the guardrail tick advances and stores it, a read
 * only folds today's counts in without storing). `flagged` is the anytime-valid test at its level
 * (0.001); the chi-square p stays as `chiSquarePValue`, for reference.
 */
export function sequentialSrm(def: AnalysisDefinition, units: Map<string, number>, stored: SrmState | null): SrmDto | null {
  const fixed = buildSrm(def, units);
  if (!fixed) return null;
  const counts = def.variants.map((v) => fixed.counts[v.key] ?? 0);
  const weights = def.variants.map((v) => v.weight);
  // Counts that went down (a rebuild from raw events) cannot continue the stored sequence.
  const prev = stored && stored.counts.length === counts.length && stored.counts.every((c, i) => counts[i] >= c) ? stored : null;
  const state = advanceSrmState(prev, counts, weights);
  return {
    counts: fixed.counts,
    expectedWeights: fixed.expectedWeights,
    chiSquare: fixed.chiSquare,
    pValue: state.pValue,
    flagged: state.flagged,
    method: state.method,
    params: { level: state.level, concentration: state.concentration, maxLogE: state.maxLogE, logE: state.logE, checks: state.checks, sequentialFlagged: state.flagged ? 1 : 0 },
    sequentialPValue: state.pValue,
    chiSquarePValue: fixed.pValue,
  };
}

/** Minimum duration (a full weekly cycle by default): measured up to the stop for a stopped experiment. */
export function readiness(def: AnalysisDefinition, now: Date): ReadinessDto | undefined {
  if (!def.startedAt) return undefined;
  const end = def.stoppedAt && def.stoppedAt < now ? def.stoppedAt : now;
  const c = minDurationCheck(def.startedAt, end, def.minDurationDays ?? DEFAULT_MIN_DURATION_DAYS);
  return { ready: c.ready, minDurationDays: c.minDurationDays, daysRun: c.daysRun, reason: c.reason };
}

/**
 * A hint, never an automatic action (except the guardrail job's auto-stop). Benefit and harm come
 * from `effectVerdict` on the folded sequential pair (running-min p corrected across the table,
 * running-intersection interval): the relative test when defined, the absolute one otherwise.
 */
export function decide(
  def: AnalysisDefinition,
  metrics: MetricResultDto[],
  srm: SrmDto | null,
  guardrails: ExperimentResultsDto['guardrails'],
  alpha: number,
  ready?: ReadinessDto,
): { hint: DecisionHint; reason: string } {
  const harmed = guardrails.filter((g) => g.status === 'harm');
  if (harmed.length) return { hint: 'stop_for_harm', reason: `Guardrail harm: ${harmed.map((g) => g.message).join('; ')}.` };
  if (srm?.flagged) {
    const level = Number(srm.params?.level ?? 0.001);
    return {
      hint: 'inconclusive',
      reason: `Sample ratio mismatch (anytime-valid p = ${srm.pValue.toExponential(2)} ≤ ${level}): the split does not match the weights, so the results are not trustworthy; check assignment and exposure logging.`,
    };
  }
  const primary = metrics.find((m) => m.role === 'primary');
  if (!primary) return { hint: 'inconclusive', reason: 'The experiment has no primary metric.' };
  let best: { variant: string; absolute: number; basis: string; p: number } | null = null;
  const good = primary.direction === 'increase' ? 1 : -1;
  for (const v of primary.variants) {
    if (v.isControl || !v.absolute || !v.relative) continue;
    const verdict = effectVerdict({ absolute: estimateOf(v.absolute.sequential), relative: estimateOf(v.relative.sequential) }, primary.direction);
    const lift = verdict.basis === 'absolute' ? v.absolute.sequential.estimate : v.relative.sequential.estimate;
    const shown = verdict.basis === 'absolute' ? `absolute ${lift.toPrecision(3)} per unit` : `relative ${(lift * 100).toFixed(2)}%`;
    if (verdict.outcome === 'harm') {
      return { hint: 'stop_for_harm', reason: `The primary metric ${primary.metric} is significantly worse in ${v.variant} (${shown}, adjusted always-valid p = ${verdict.pValue.toPrecision(3)}).` };
    }
    if (verdict.outcome === 'benefit' && (!best || good * v.absolute.sequential.estimate > good * best.absolute)) best = { variant: v.variant, absolute: v.absolute.sequential.estimate, basis: shown, p: verdict.pValue };
  }
  if (best) {
    const claim = `${best.variant} improves ${primary.metric} (${best.basis}; sequential test, adjusted p = ${best.p.toPrecision(3)} ≤ ${alpha}); no guardrail harm`;
    if (ready && !ready.ready) return { hint: 'keep_running', reason: `${claim}, but the experiment ${ready.reason}.` };
    return { hint: 'ship', reason: `${claim}.` };
  }
  const planned = plannedN(def);
  const smallest = Math.min(...primary.variants.map((v) => v.units));
  if (smallest >= planned) return { hint: 'inconclusive', reason: `No significant difference in ${primary.metric} at the planned sample size (${planned} units per variant).` };
  return { hint: 'keep_running', reason: `No significant difference in ${primary.metric} yet; ${smallest} of ${planned} planned units per variant in the smallest variant.` };
}

/**
 * The whole results document. `fold` continues the persisted monotone sequences (and records
 * what it folded); `srmState` is the stored anytime-valid SRM state (null before the first check).
 */
export function buildResults(
  def: AnalysisDefinition,
  aggregates: MetricAggregates,
  units: Map<string, number>,
  query: ResultsQuery,
  dataThrough: Date | null,
  now: Date = new Date(),
  fold?: SequentialFold,
  srmState: SrmState | null = null,
): ExperimentResultsDto {
  const metrics = buildMetricResults(def, aggregates, query, fold);
  const srm = sequentialSrm(def, units, srmState);
  const guardrails = guardrailsFromMetrics(def, metrics, query.alpha);
  const ready = readiness(def, now);
  return {
    experiment: def.key,
    status: def.status,
    computedAt: now.toISOString(),
    dataThrough: dataThrough?.toISOString() ?? null,
    alpha: query.alpha,
    correction: query.correction,
    sequential: {
      method: 'asymptotic-confidence-sequence + msprt, monotone (running-min p, running-intersection ci), correction on the running p',
      params: { plannedSampleSize: plannedN(def), plannedSampleSizeSource: def.plannedSampleSize ? 'experiment' : 'default', plannedSampleSizeUnit: 'units per arm' },
    },
    totalUnits: [...units.values()].reduce((a, b) => a + b, 0),
    metrics,
    srm,
    guardrails,
    ...(ready ? { readiness: ready } : {}),
    decision: decide(def, metrics, srm, guardrails, query.alpha, ready),
  };
}
