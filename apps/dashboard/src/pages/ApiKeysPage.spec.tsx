import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../App';
import { mockFetch, page, renderPage } from '../test-utils';
import { ApiKeysPage } from './ApiKeysPage';

afterEach(() => vi.unstubAllGlobals());

const key = {
  id: '0b7e2c1e-1111-4a4a-9a9a-000000000001',
  name: 'web',
  type: 'sdk-client',
  prefix: 'sk_cli_ab',
  createdAt: '2026-11-01T09:00:00Z',
  revokedAt: null,
  lastUsedAt: null,
};

describe('API keys', () => {
  it('shows a new key’s secret once, with a copy button', async () => {
    const user = userEvent.setup();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const calls = mockFetch([
      {
        method: 'POST',
        url: '/v1/api-keys',
        status: 201,
        body: { ...key, name: 'backend', type: 'sdk-server', secret: 'sk_srv_supersecret' },
      },
      { url: '/v1/api-keys', body: page([key]) },
    ]);
    renderPage(<ApiKeysPage />);
    await screen.findByText('web');
    await user.type(screen.getByLabelText('Name'), 'backend');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = await screen.findByRole('dialog', { name: 'Key “backend” created' });
    expect(dialog).toHaveTextContent('it is shown only once');
    expect(screen.getByTestId('api-key-secret')).toHaveTextContent('sk_srv_supersecret');
    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('sk_srv_supersecret');
    expect(await screen.findByText('Copied to the clipboard.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByText('sk_srv_supersecret')).toBeNull();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'backend', type: 'sdk-server' });
  });

  it('revokes a key after confirmation', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { method: 'POST', url: `/v1/api-keys/${key.id}/revoke`, body: { ...key, revokedAt: '2026-11-02T00:00:00Z' } },
      { url: '/v1/api-keys', body: page([key]) },
    ]);
    renderPage(<ApiKeysPage />);
    await user.click(await screen.findByRole('button', { name: 'Revoke web' }));
    expect(screen.getByRole('dialog')).toHaveTextContent('Requests with this sdk-client key (sk_cli_ab…) are refused from now on.');
    await user.click(screen.getByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/revoke'))).toBe(true));
  });
});

describe('revoking the key in use', () => {
  it('warns that it signs you out, and does', async () => {
    const user = userEvent.setup();
    const own = { ...key, id: '0b7e2c1e-1111-4a4a-9a9a-000000000002', name: 'mine', type: 'admin', prefix: 'sk_admin_te' };
    mockFetch([
      { method: 'POST', url: `/v1/api-keys/${own.id}/revoke`, body: { ...own, revokedAt: '2026-11-02T00:00:00Z' } },
      { url: '/v1/api-keys', body: page([own]) },
    ]);
    renderPage(<AppRoutes />, { path: '/*', route: '/api-keys' });
    await user.click(await screen.findByRole('button', { name: 'Revoke mine' }));
    expect(screen.getByRole('dialog')).toHaveTextContent('This is the key you are signed in with: you will be signed out.');
    await user.click(screen.getByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(sessionStorage.getItem('strata.adminKey')).toBeNull());
    expect(screen.getByLabelText('E-mail')).toBeInTheDocument();
  });
});

describe('linked from the audit log', () => {
  it('marks the key named in /api-keys#key-<id> and scrolls it into view', async () => {
    const scrolled: Element[] = [];
    Object.defineProperty(Element.prototype, 'scrollIntoView', {
      value: function (this: Element) {
        scrolled.push(this);
      },
      configurable: true,
    });
    try {
      const other = { ...key, id: '0b7e2c1e-1111-4a4a-9a9a-000000000002', name: 'backend' };
      mockFetch([{ url: '/v1/api-keys', body: page([key, other]) }]);
      renderPage(<ApiKeysPage />, { path: '/api-keys', route: `/api-keys#key-${other.id}` });
      const target = await screen.findByText('backend');
      expect(target).toHaveAttribute('aria-current', 'true');
      expect(target.id).toBe(`key-${other.id}`);
      expect(screen.getByText('web')).not.toHaveAttribute('aria-current');
      await waitFor(() => expect(scrolled).toEqual([target]));
    } finally {
      // jsdom has no scrollIntoView: leave it as it was.
      delete (Element.prototype as { scrollIntoView?: unknown }).scrollIntoView;
    }
  });
});
