import { BUCKETS_PER_LAYER, type LayerAllocationDto } from '@strata/contracts';
import { Link } from 'react-router-dom';
import { formatCount } from '../lib/traffic';

// Index 1 (the first treatment in charts) is #15803d: 5.0:1 on white, where #16a34a was 3.3:1.
const PALETTE = ['#2563eb', '#15803d', '#d97706', '#9333ea', '#db2777', '#0891b2', '#65a30d', '#dc2626', '#4f46e5', '#0d9488'];

export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

interface BucketBarProps {
  allocations: LayerAllocationDto[];
  freeBuckets: number;
  /** Highlights the experiment being edited. */
  highlight?: string;
  /** Buckets the edited experiment would ask for, shown as a "requested" note. */
  requested?: number;
  label?: string;
}

/**
 * The layer's 10,000 buckets as one bar: each experiment's ranges at their real positions,
 * gaps are free. Built from divs (a map of positions, not a chart of values).
 */
export function BucketBar({ allocations, freeBuckets, highlight, requested, label = 'Bucket map' }: BucketBarProps) {
  const summary =
    allocations.map((a) => `${a.experiment} holds ${formatCount(a.buckets)}`).join(', ') +
    `${allocations.length ? '; ' : ''}${formatCount(freeBuckets)} of ${formatCount(BUCKETS_PER_LAYER)} buckets free`;
  return (
    <figure className="bucket-figure">
      <div className="bucket-bar" role="img" aria-label={`${label}: ${summary}`}>
        {allocations.flatMap((a, i) =>
          a.ranges.map((r) => (
            <span
              key={`${a.experiment}-${r.start}`}
              className={`bucket-seg${highlight === a.experiment ? ' bucket-seg-highlight' : ''}`}
              style={{
                left: `${(r.start / BUCKETS_PER_LAYER) * 100}%`,
                width: `${Math.max(((r.end - r.start) / BUCKETS_PER_LAYER) * 100, 0.15)}%`,
                background: colorFor(i),
              }}
              title={`${a.experiment}: buckets ${r.start}–${r.end - 1}`}
            />
          )),
        )}
      </div>
      <figcaption className="bucket-legend">
        {allocations.map((a, i) => (
          <span key={a.experiment} className="legend-item">
            <span className="legend-swatch" style={{ background: colorFor(i) }} aria-hidden="true" />
            <Link to={`/experiments/${a.experiment}`}>{a.experiment}</Link>{' '}
            <span className="muted">
              ({a.status}, {formatCount(a.buckets)})
            </span>
          </span>
        ))}
        <span className="legend-item">
          <span className="legend-swatch legend-free" aria-hidden="true" />
          free <span className="muted">({formatCount(freeBuckets)})</span>
        </span>
        {requested !== undefined && (
          <span className={`legend-item ${requested > freeBuckets ? 'text-bad' : ''}`}>
            this experiment asks for {formatCount(requested)}
            {requested > freeBuckets ? ' — more than is free; starting will fail until others stop or you lower traffic' : ''}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
