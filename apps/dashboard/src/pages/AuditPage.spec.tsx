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
      actor: { kind: 'user', id: 'u-1', name: 'ada@example.com' },
      apiKeyId: null,
      action: 'experiment.ramp',
      entityType: 'experiment',
      entityKey: 'checkout',
      before: { traffic: 10 },
      after: { traffic: 50 },
    };
    const calls = mockFetch([{ url: '/v1/audit', body: { items: [entry], total: 60, limit: 25, offset: 0 } }]);
    renderPage(<AuditPage />, { path: '/audit', route: '/audit?entityType=experiment&entityKey=checkout' });
    await screen.findByText('experiment.ramp');
    // The person is named, not an id.
    expect(screen.getByText('ada@example.com')).toBeInTheDocument();
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

  it('names an API key by its name', async () => {
    const entry = {
      id: '2',
      at: '2026-11-02T10:00:00Z',
      actor: { kind: 'api_key', id: 'abcdef0123', name: 'deploy bot' },
      apiKeyId: 'abcdef0123',
      action: 'layer.create',
      entityType: 'layer',
      entityKey: 'home',
      before: null,
      after: { key: 'home' },
    };
    mockFetch([{ url: '/v1/audit', body: { items: [entry], total: 1, limit: 25, offset: 0 } }]);
    renderPage(<AuditPage />, { path: '/audit', route: '/audit' });
    expect(await screen.findByText('deploy bot')).toBeInTheDocument();
    expect(screen.queryByText('abcdef01')).toBeNull();
  });

  it("links an API key's name to its row on the API keys page", async () => {
    const entry = {
      id: '3',
      at: '2026-11-02T10:00:00Z',
      actor: { kind: 'api_key', id: 'abcdef0123', name: 'deploy bot' },
      apiKeyId: 'abcdef0123',
      action: 'layer.create',
      entityType: 'layer',
      entityKey: 'home',
      before: null,
      after: { key: 'home' },
    };
    mockFetch([{ url: '/v1/audit', body: { items: [entry], total: 1, limit: 25, offset: 0 } }]);
    renderPage(<AuditPage />, { path: '/audit', route: '/audit' });
    expect(await screen.findByRole('link', { name: 'deploy bot' })).toHaveAttribute('href', '/api-keys#key-abcdef0123');
  });
});
