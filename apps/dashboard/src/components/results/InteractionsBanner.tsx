import type { InteractionDto } from '@strata/contracts';
import { Link } from 'react-router-dom';
import { formatP } from '../../lib/format';

/**
 * Significant interactions with experiments in other layers (from the last interaction refresh):
 * this experiment's effect differs between the other's arms, or the other's between this one's.
 * Shown on both experiments' pages.
 */
export function InteractionsBanner({ experiment, interactions }: { experiment: string; interactions: InteractionDto[] | undefined }) {
  const flagged = (interactions ?? []).filter((x) => x.flagged);
  if (flagged.length === 0) return null;
  return (
    <section className="banner banner-bad" role="alert" aria-labelledby="interactions-heading" data-testid="interactions-banner">
      <h3 id="interactions-heading">Interaction with {flagged.length === 1 ? 'another experiment' : `${new Set(flagged.map((x) => (x.subject === experiment ? x.other : x.subject))).size} other experiments`}</h3>
      <p>
        The effect of one experiment depends on the arm of the other (difference of differences, FDR {flagged[0].correction.toUpperCase()} at q = {flagged[0].fdr} over every pair): read each one's result with the other in mind.
      </p>
      <table>
        <caption>Flagged interactions</caption>
        <thead>
          <tr>
            <th scope="col">Effect of</th>
            <th scope="col">Differs across the arms of</th>
            <th scope="col">Metric</th>
            <th scope="col">Estimate</th>
            <th scope="col">p</th>
            <th scope="col">Adjusted p</th>
            <th scope="col">Method</th>
          </tr>
        </thead>
        <tbody>
          {flagged.map((x) => (
            <tr key={`${x.subject}|${x.other}`}>
              <td>{x.subject === experiment ? x.subject : <Link to={`/experiments/${encodeURIComponent(x.subject)}`}>{x.subject}</Link>}</td>
              <td>{x.other === experiment ? x.other : <Link to={`/experiments/${encodeURIComponent(x.other)}`}>{x.other}</Link>}</td>
              <td>{x.metric}</td>
              <td>{x.estimate === null ? '—' : x.estimate.toPrecision(3)}</td>
              <td>{formatP(x.pValue)}</td>
              <td>{formatP(x.adjustedPValue)}</td>
              <td>{x.method ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
