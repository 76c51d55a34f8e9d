import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderPage } from '../test-utils';
import { AuditPage, diffRows } from './AuditPage';

afterEach(() => vi.unstubAllGlobals());

describe('audit log', () => {
  it('diffs before and after field by field, changed fields first', () => {
    expect(diffRows({ traffic: 10, name: 'A', status: 'running' }, { traffic: 50, name: 'A', status: 'running' })).toEqual([
      { field: 'traffic', before: '10', after: '50', changed: true },
      { field: 'name', before: 'A', after: 'A', changed: false },
      { field: 'status', before: 'running', after: 'running', changed: false },
    ]);
    expect(diffRows(null, { key: 'x' })).toEqual([{ field: 'key', before: '', after: 'x', changed: true }]);
  });

  it('sends the filters and page to the API and shows a diff on demand', async () => {
    const user = userEvent.setup();
    const entry = {
      id: '1',
      at: '2026-11-02T10:00:00Z',
      apiKeyId: 'abcdef0123',
      action: 'experiment.ramp',
      entityType: 'experiment',
      entityKey: 'checkout',
      before: { traffic: 10 },
      after: { traffic: 50 },
    };
    const calls = mockFetch([{ url: '/v1/audit', body: { items: [entry], total: 60, limit: 25, offset: 0 } }]);
    renderPage(<AuditPage />, { path: '/audit', route: '/audit?entityType=experiment&entityKey=checkout' });
    await screen.findByText('experiment.ramp');
    expect(calls[0]?.url).toBe('/v1/audit?entityType=experiment&entityKey=checkout&limit=25&offset=0');
    await user.click(screen.getByRole('button', { name: 'Show diff' }));
    const diff = screen.getByRole('table', { name: 'Changes of experiment.ramp on checkout' });
    expect(
      within(diff)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['traffic •', '10', '50']);
    await user.type(screen.getByLabelText('Action'), 'x');
    await vi.waitFor(() => expect(calls.at(-1)?.url).toContain('action=x'));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    await vi.waitFor(() => expect(calls.at(-1)?.url).toContain('offset=25'));
  });
});
