import type { InteractionDto } from '@strata/contracts';
import { Link } from 'react-router-dom';
import { DataTable, type Column } from '../DataTable';
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
      <DataTable columns={interactionColumns(experiment)} rows={flagged} rowKey={(x) => `${x.subject}|${x.other}`} label="Flagged interactions" />
    </section>
  );
}

/** The other experiment of a row links to its page; this one is plain text. */
function interactionColumns(experiment: string): readonly Column<InteractionDto>[] {
  const link = (key: string) => (key === experiment ? key : <Link to={`/experiments/${encodeURIComponent(key)}`}>{key}</Link>);
  return [
    { header: 'Effect of', cell: (x) => link(x.subject) },
    { header: 'Differs across the arms of', cell: (x) => link(x.other) },
    { header: 'Metric', cell: (x) => x.metric },
    { header: 'Estimate', cell: (x) => (x.estimate === null ? '—' : x.estimate.toPrecision(3)), numeric: true },
    { header: 'p', cell: (x) => formatP(x.pValue), numeric: true },
    { header: 'Adjusted p', cell: (x) => formatP(x.adjustedPValue), numeric: true },
    { header: 'Method', cell: (x) => x.method ?? '—' },
  ];
}
