import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditPage } from '../pages/AuditPage';
import { mockFetch, renderPage } from '../test-utils';
import { BucketBar } from './BucketBar';
import { Layout } from './Layout';

afterEach(() => vi.unstubAllGlobals());

describe('no dead ends', () => {
  it('names in the bucket-map legend link to their experiments', () => {
    renderPage(
      <BucketBar
        allocations={[{ experiment: 'checkout', status: 'running', ranges: [{ start: 0, end: 1000 }], buckets: 1000 }]}
        freeBuckets={9000}
      />,
    );
    expect(screen.getByRole('link', { name: 'checkout' })).toHaveAttribute('href', '/experiments/checkout');
  });

  it('audit entries link to the experiment or layer they changed', async () => {
    const entry = (id: string, entityType: string, entityKey: string) => ({
      id,
      at: '2026-11-02T10:00:00Z',
      actor: { kind: 'api_key', id: 'abcdef0123', name: 'deploy bot' },
      apiKeyId: 'abcdef0123',
      action: `${entityType}.update`,
      entityType,
      entityKey,
      before: null,
      after: { name: 'x' },
    });
    mockFetch([
      {
        url: '/v1/audit',
        body: { items: [entry('1', 'experiment', 'checkout'), entry('2', 'layer', 'homepage')], total: 2, limit: 25, offset: 0 },
      },
    ]);
    renderPage(<AuditPage />, { path: '/audit', route: '/audit' });
    const table = (await screen.findByText('experiment.update')).closest('table') as HTMLElement;
    expect(within(table).getByRole('link', { name: 'checkout' })).toHaveAttribute('href', '/experiments/checkout');
    expect(within(table).getByRole('link', { name: 'homepage' })).toHaveAttribute('href', '/layers/homepage');
  });
});

describe('documentation', () => {
  it('links to the API reference at /docs from every page', () => {
    mockFetch([]);
    renderPage(<Layout />);
    expect(screen.getByRole('link', { name: 'API docs (opens in a new tab)' })).toHaveAttribute('href', '/docs');
  });
});
