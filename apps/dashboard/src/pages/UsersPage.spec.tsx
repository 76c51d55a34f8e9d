import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, page, renderPage } from '../test-utils';
import { UsersPage } from './UsersPage';

afterEach(() => vi.unstubAllGlobals());

const bob = {
  id: '0b7e2c1e-2222-4a4a-9a9a-000000000001',
  email: 'bob@example.com',
  role: 'viewer',
  createdAt: '2026-11-01T00:00:00Z',
  disabledAt: null,
  lastLoginAt: null,
};

describe('users', () => {
  it('adds a person with a role and password, changes a role and disables an account', async () => {
    const user = userEvent.setup();
    const calls = mockFetch([
      { method: 'POST', url: '/v1/users', status: 201, body: { ...bob, email: 'ada@example.com', role: 'experimenter' } },
      { method: 'PATCH', url: `/v1/users/${bob.id}`, body: { ...bob, role: 'experimenter' } },
      { url: '/v1/users', body: page([bob]) },
    ]);
    renderPage(<UsersPage />);
    await screen.findByText('bob@example.com');
    await user.type(screen.getByLabelText('E-mail'), 'ada@example.com');
    await user.selectOptions(screen.getByLabelText('Role'), 'experimenter');
    await user.type(screen.getByLabelText('Initial password'), 'a long passphrase');
    await user.click(screen.getByRole('button', { name: 'Add user' }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
        email: 'ada@example.com',
        role: 'experimenter',
        password: 'a long passphrase',
      }),
    );

    await user.selectOptions(screen.getByLabelText('Role of bob@example.com'), 'experimenter');
    await waitFor(() => expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ role: 'experimenter' }));
    await user.click(screen.getByRole('button', { name: 'Disable bob@example.com' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({ disabled: true }));
  });

  it('shows the password policy error from the API next to the field', async () => {
    const user = userEvent.setup();
    mockFetch([
      {
        method: 'POST',
        url: '/v1/users',
        status: 400,
        body: {
          error: {
            code: 'validation_failed',
            message: 'The request is not valid.',
            details: [{ path: 'password', message: 'must be at least 12 characters' }],
          },
        },
      },
      { url: '/v1/users', body: page([]) },
    ]);
    renderPage(<UsersPage />);
    await screen.findByText('No users yet');
    await user.type(screen.getByLabelText('E-mail'), 'ada@example.com');
    await user.type(screen.getByLabelText('Initial password'), 'short');
    await user.click(screen.getByRole('button', { name: 'Add user' }));
    expect(await screen.findByText('must be at least 12 characters')).toBeInTheDocument();
  });
});
