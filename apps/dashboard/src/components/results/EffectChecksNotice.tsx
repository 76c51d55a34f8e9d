import type { HeterogeneityDto, NoveltyDto } from '@strata/contracts';
import { formatP } from '../../lib/format';

/**
 * A short notice when the primary metric's effect changes over the exposure days (novelty) or
 * differs between the segments of a declared dimension (heterogeneity); nothing otherwise.
 */
export function EffectChecksNotice({ novelty, heterogeneity }: { novelty: NoveltyDto[] | undefined; heterogeneity: HeterogeneityDto[] | undefined }) {
  const trends = (novelty ?? []).filter((n) => n.flagged);
  const spreads = (heterogeneity ?? []).filter((h) => h.flagged);
  if (trends.length === 0 && spreads.length === 0) return null;
  return (
    <section className="banner banner-warn" aria-labelledby="effect-checks-heading" data-testid="effect-checks-notice">
      <h3 id="effect-checks-heading">The effect is not the same everywhere</h3>
      <ul>
        {trends.map((n) => (
          <li key={`novelty|${n.metric}|${n.variant}`}>
            {n.metric} in {n.variant}: the effect is {n.pattern === 'fading' ? 'fading' : 'growing'} over the exposure days ({n.slope.toPrecision(3)} per day, p = {formatP(n.pValue)}) — a
            novelty or learning effect; the long-run effect may differ from the average shown.
          </li>
        ))}
        {spreads.map((h) => (
          <li key={`heterogeneity|${h.metric}|${h.variant}|${h.dimension}`}>
            {h.metric} in {h.variant}: the effect differs by {h.dimension} (Holm-adjusted p = {formatP(h.adjustedPValue)}, I² = {Math.round(h.iSquared * 100)}%)
            {h.highlighted.length > 0 ? `; most different: ${h.highlighted.join(', ')}` : ''}.
          </li>
        ))}
      </ul>
    </section>
  );
}
