import type { ExperimentResultsDto } from '@strata/contracts';
import type { SimulationSummary } from './simulator';

const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : 'n/a');

/** Human-readable summary of a simulation run (what was sent, what was observed). */
export function formatSummary(s: SimulationSummary): string[] {
  const lines = ['Units per variant:'];
  for (const [v, arm] of Object.entries(s.variants)) lines.push(`  ${v.padEnd(16)} ${String(arm.units).padStart(8)}`);
  if (s.unitsOutside) lines.push(`  ${'(not in experiment)'.padEnd(16)} ${String(s.unitsOutside).padStart(8)}`);
  lines.push(
    `Events: ${s.exposures} exposures + ${s.metricEvents} metric events; delivered ${s.stats.sent}, retries ${s.stats.retries}, failed ${s.stats.failures}, dropped ${s.stats.dropped}`,
  );
  lines.push('Observed lift (simulated data, before analysis):');
  for (const [event, byVariant] of Object.entries(s.observedLift)) {
    for (const [v, lift] of Object.entries(byVariant)) lines.push(`  ${event} ${v}: ${pct(lift)}`);
  }
  return lines;
}

/** The primary metric's lift and confidence intervals from the results endpoint. */
export function formatResults(r: ExperimentResultsDto): string[] {
  const lines = [`Results (/v1/experiments/${r.experiment}/results, data through ${r.dataThrough ?? 'n/a'}, ${r.totalUnits} units):`];
  const primary = r.metrics.find((m) => m.role === 'primary') ?? r.metrics[0];
  if (!primary) return [...lines, '  no metrics configured for this experiment'];
  for (const v of primary.variants.filter((x) => !x.isControl)) {
    const fixed = v.relative?.fixed;
    const seq = v.relative?.sequential;
    if (!fixed || fixed.reason !== undefined || fixed.ci === null) {
      lines.push(`  ${primary.metric} ${v.variant}: not enough data${fixed?.reason ? ` (${fixed.reason})` : ''}`);
      continue;
    }
    lines.push(
      `  ${primary.metric} ${v.variant}: lift ${pct(fixed.estimate)}  95% CI [${pct(fixed.ci[0])}, ${pct(fixed.ci[1])}]  p=${fixed.pValue.toPrecision(3)}${fixed.significant ? '  significant' : ''}`,
    );
    if (seq && seq.reason === undefined && seq.ci)
      lines.push(
        `  ${' '.repeat(primary.metric.length)} sequential CI [${pct(seq.ci[0])}, ${pct(seq.ci[1])}]${seq.significant ? '  significant' : ''}`,
      );
  }
  for (const g of r.guardrails) if (g.status === 'harm') lines.push(`  guardrail: ${g.message}`);
  lines.push(`Decision hint: ${r.decision.hint} — ${r.decision.reason}`);
  return lines;
}
