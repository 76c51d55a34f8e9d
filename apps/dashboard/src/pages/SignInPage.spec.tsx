import type { WhoAmIDto } from '@strata/contracts';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../App';
import { SESSION_KEY } from '../hooks/session';
import { mockFetch, page, renderPage } from '../test-utils';

afterEach(() => vi.unstubAllGlobals());

const NO_SESSION = { url: '/v1/auth/me', status: 401, body: { error: { code: 'unauthorized', message: 'Sign in', details: [] } } };
const person = (role: WhoAmIDto['role']): WhoAmIDto => ({
  kind: 'user',
  id: 'u-1',
  name: 'ada@example.com',
  role,
  csrfToken: 'csrf-token-1',
  expiresAt: '2026-12-03T23:00:00Z',
});

/** The admin-key path sits behind a secondary link. */
async function openKeyForm() {
  await userEvent.click(await screen.findByRole('button', { name: 'Use an admin API key instead' }));
}

describe('sign-in with an admin key', () => {
  it('verifies the key with GET /v1/layers?limit=1 and keeps it in sessionStorage', async () => {
    const calls = mockFetch([NO_SESSION, { url: '/v1/layers', body: page([]) }, { url: '/v1/experiments', body: page([]) }]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments', signedIn: false });
    await openKeyForm();
    expect(screen.getByLabelText('Admin API key')).toHaveFocus();
    await userEvent.type(screen.getByLabelText('Admin API key'), '  sk_admin_secret  ');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByRole('heading', { name: 'Experiments' });
    expect(sessionStorage.getItem(SESSION_KEY)).toBe('sk_admin_secret');
    const check = calls.find((c) => c.url.startsWith('/v1/layers'));
    expect(check).toMatchObject({ method: 'GET', url: '/v1/layers?limit=1' });
    expect(check?.headers.authorization).toBe('Bearer sk_admin_secret');
  });

  it('says the key was refused on 401 and stores nothing', async () => {
    mockFetch([NO_SESSION, { url: '/v1/layers', status: 401, body: { error: { code: 'unauthorized', message: 'nope', details: [] } } }]);
    renderPage(<AppRoutes />, { path: '/*', signedIn: false });
    await openKeyForm();
    await userEvent.type(screen.getByLabelText('Admin API key'), 'sk_wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That key was not accepted');
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
  });

  it('explains that SDK keys cannot sign in on 403', async () => {
    mockFetch([NO_SESSION, { url: '/v1/layers', status: 403, body: { error: { code: 'forbidden', message: 'no', details: [] } } }]);
    renderPage(<AppRoutes />, { path: '/*', signedIn: false });
    await openKeyForm();
    await userEvent.type(screen.getByLabelText('Admin API key'), 'sk_sdk');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not an admin key');
  });

  it('sign-out clears the stored key and shows the sign-in form again', async () => {
    mockFetch([NO_SESSION, { url: '/v1/layers', body: page([]) }, { url: '/v1/experiments', body: page([]) }]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments' });
    await screen.findByRole('heading', { name: 'Experiments' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
    expect(screen.getByLabelText('E-mail')).toBeInTheDocument();
  });
});

describe('sign-in with e-mail and password', () => {
  it('posts the credentials, then shows who is signed in and sends the CSRF token on changes', async () => {
    const calls = mockFetch([
      NO_SESSION,
      { method: 'POST', url: '/v1/auth/login', body: person('experimenter') },
      { url: '/v1/experiments', body: page([]) },
      { url: '/v1/layers', body: page([]) },
      { method: 'POST', url: '/v1/auth/logout', status: 204 },
    ]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments', signedIn: false });
    await userEvent.type(await screen.findByLabelText('E-mail'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByRole('heading', { name: 'Experiments' });
    expect(calls.find((c) => c.url === '/v1/auth/login')?.body).toEqual({ email: 'ada@example.com', password: 'a long passphrase' });
    expect(screen.getByTestId('signed-in-as')).toHaveTextContent('Signed in as ada@example.com · experimenter');
    // Experimenters create experiments; API keys and users are for admins.
    expect(screen.getByRole('link', { name: 'New experiment' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'API keys' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Users' })).toBeNull();
    // No key in the page: the browser sends the cookie.
    expect(calls.every((c) => c.headers.authorization === undefined)).toBe(true);
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    const logout = calls.find((c) => c.url === '/v1/auth/logout');
    expect(logout?.method).toBe('POST');
    expect(logout?.headers['x-csrf-token']).toBe('csrf-token-1');
    expect(screen.getByLabelText('E-mail')).toBeInTheDocument();
  });

  it('focuses the first field in error, and says a refused sign-in without telling which part was wrong', async () => {
    mockFetch([
      NO_SESSION,
      { method: 'POST', url: '/v1/auth/login', status: 401, body: { error: { code: 'invalid_credentials', message: 'x', details: [] } } },
    ]);
    renderPage(<AppRoutes />, { path: '/*', signedIn: false });
    await userEvent.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter your e-mail address.');
    expect(screen.getByLabelText('E-mail')).toHaveFocus();
    await userEvent.type(screen.getByLabelText('E-mail'), 'ada@example.com');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter your password.');
    expect(screen.getByLabelText('Password')).toHaveFocus();
    await userEvent.type(screen.getByLabelText('Password'), 'wrong wrong wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That e-mail and password do not match an active account.');
    expect(screen.getByLabelText('E-mail')).toHaveFocus();
  });

  it('resumes a live session cookie and hides every change from a viewer', async () => {
    mockFetch([{ url: '/v1/auth/me', body: person('viewer') }, { url: '/v1/experiments', body: page([]) }, { url: '/v1/layers', body: page([]) }]);
    renderPage(<AppRoutes />, { path: '/*', route: '/experiments', signedIn: false });
    await screen.findByRole('heading', { name: 'Experiments' });
    expect(screen.getByTestId('signed-in-as')).toHaveTextContent('ada@example.com · viewer');
    expect(screen.queryByRole('link', { name: 'New experiment' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Create your first experiment' })).toBeNull();
  });

  it('tells a viewer who opens an admin page that it is not for their role', async () => {
    mockFetch([{ url: '/v1/auth/me', body: person('viewer') }]);
    renderPage(<AppRoutes />, { path: '/*', route: '/api-keys', signedIn: false });
    expect(await screen.findByText('Not available for your role')).toBeInTheDocument();
    expect(screen.getByText(/You are signed in as a viewer/)).toBeInTheDocument();
  });
});
