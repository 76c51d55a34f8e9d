import type { ReactNode } from 'react';
import type { ExperimentStatus } from '@strata/contracts';

export function StatusBadge({ status }: { status: ExperimentStatus }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function Badge({ tone, children, title }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}
