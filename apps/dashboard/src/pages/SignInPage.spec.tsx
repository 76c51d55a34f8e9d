import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../App';
import { SESSION_KEY } from '../hooks/session';
import { mockFetch, page, renderPage } from '../test-utils';

afterEach(() => vi.unstubAllGlobals());

describe('sign-in', () => {
  it('verifies the key with GET /v1/layers?limit=1 and keeps it in sessionStorage', async () => {
    const calls = mockFetch([
      { url: '/v1/layers', body: page([]) },
      { url: '/v1/experiments', body: page([]) },
    ]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments', signedIn: false });
    await userEvent.type(screen.getByLabelText('Admin API key'), '  sk_admin_secret  ');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByRole('heading', { name: 'Experiments' });
    expect(sessionStorage.getItem(SESSION_KEY)).toBe('sk_admin_secret');
    expect(calls[0]).toMatchObject({ method: 'GET', url: '/v1/layers?limit=1' });
    expect(calls[0]?.headers.authorization).toBe('Bearer sk_admin_secret');
  });

  it('says the key was refused on 401 and stores nothing', async () => {
    mockFetch([{ url: '/v1/layers', status: 401, body: { error: { code: 'unauthorized', message: 'nope', details: [] } } }]);
    renderPage(<AppRoutes />, { path: '/*', signedIn: false });
    await userEvent.type(screen.getByLabelText('Admin API key'), 'sk_wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That key was not accepted');
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
  });

  it('explains that SDK keys cannot sign in on 403', async () => {
    mockFetch([{ url: '/v1/layers', status: 403, body: { error: { code: 'forbidden', message: 'no', details: [] } } }]);
    renderPage(<AppRoutes />, { path: '/*', signedIn: false });
    await userEvent.type(screen.getByLabelText('Admin API key'), 'sk_sdk');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not an admin key');
  });

  it('sign-out clears the stored key and shows the sign-in form again', async () => {
    mockFetch([
      { url: '/v1/layers', body: page([]) },
      { url: '/v1/experiments', body: page([]) },
    ]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments' });
    await screen.findByRole('heading', { name: 'Experiments' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
    expect(screen.getByLabelText('Admin API key')).toBeInTheDocument();
  });
});
