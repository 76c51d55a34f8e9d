import type { ExperimentDto } from '@strata/contracts';
import { useResults } from '../hooks/queries';
import { formatCi, formatPct } from '../lib/format';

/**
 * Inside the ship dialog: says plainly when the chosen variant has not won on the primary metric
 * (same sequential test and correction as the results page's recommendation) or harms a guardrail.
 */
export function ShipWarning({ experiment, variant }: { experiment: ExperimentDto; variant: string }) {
  const results = useResults(experiment.key, { correction: 'bh' });
  const r = results.data;
  if (!r) return null;
  const warnings: string[] = [];
  const primary = r.metrics.find((m) => m.role === 'primary');
  const row = primary?.variants.find((v) => v.variant === variant);
  if (primary && row && !row.isControl) {
    const inf = row.relative?.sequential;
    if (!inf || inf.reason || !inf.ci) {
      warnings.push(`There is not enough data on ${primary.name} to say whether ${variant} is better than control.`);
    } else {
      const good = primary.direction === 'increase' ? inf.estimate > 0 : inf.estimate < 0;
      const significant = (row.adjustedPValue ?? inf.pValue) < r.alpha && inf.significant;
      if (!significant) {
        warnings.push(
          `${variant} is not a significant winner on ${primary.name}: ${formatPct(inf.estimate)} (${formatCi(inf.ci)}) — the interval includes zero, so the difference may be noise.`,
        );
      } else if (!good) {
        warnings.push(
          `${variant} is significantly worse than control on ${primary.name}: ${formatPct(inf.estimate)} (${formatCi(inf.ci)}).`,
        );
      }
    }
  }
  for (const g of r.guardrails) {
    if (g.variant === variant && g.status === 'harm') {
      const name = r.metrics.find((m) => m.metric === g.metric)?.name ?? g.metric;
      warnings.push(`${variant} harms the guardrail ${name}: ${g.message}`);
    }
  }
  if (warnings.length === 0) return null;
  return (
    <div className="banner banner-warn" role="alert" data-testid="ship-warning">
      {warnings.map((w) => (
        <p key={w}>{w}</p>
      ))}
    </div>
  );
}
