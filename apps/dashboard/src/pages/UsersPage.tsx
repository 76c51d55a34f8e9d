import { useMutation, useQueryClient } from '@tanstack/react-query';
import { PASSWORD_MIN_LENGTH, ROLES, type Role, type UserDto } from '@strata/contracts';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import { DataTable, type Column } from '../components/DataTable';
import { FieldError, FormErrorSummary, hasFieldError } from '../components/FieldError';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { Badge } from '../components/StatusBadge';
import { useUsers } from '../hooks/queries';
import { useApi, useSession } from '../hooks/session';
import { formatDateTime } from '../lib/format';

const ROLE_HELP: Record<Role, string> = {
  viewer: 'Reads everything except API keys and users.',
  experimenter: 'Also creates, edits, starts, ramps, stops and ships experiments, layers and metrics.',
  admin: 'Also manages API keys and users.',
};

/** People who sign in to the dashboard, for admins: add, change role, disable. */
export function UsersPage() {
  const users = useUsers();
  return (
    <section>
      <div className="page-head">
        <h1>Users</h1>
      </div>
      <CreateUserForm />
      <div className="section">
        {users.isLoading ? (
          <Loading />
        ) : users.error ? (
          <ErrorState error={users.error} onRetry={() => void users.refetch()} />
        ) : users.data && users.data.items.length === 0 ? (
          <EmptyState title="No users yet">Add the people who use this dashboard above, each with the role they need.</EmptyState>
        ) : (
          <DataTable columns={USER_COLUMNS} rows={users.data?.items ?? []} rowKey={(u) => u.id} />
        )}
      </div>
    </section>
  );
}

/** The signed-in user's own row cannot change its role or disable itself. */
function useIsSelf(user: UserDto): boolean {
  const { who } = useSession();
  return who?.kind === 'user' && who.name === user.email;
}

/** One user's role or status change; each cell has its own, so its error shows beside it. */
function useUserUpdate(user: UserDto) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { role?: Role; disabled?: boolean }) => api.users.update(user.id, body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
}

function UserEmail({ user }: { user: UserDto }) {
  const self = useIsSelf(user);
  return (
    <>
      {user.email}
      {self && <span className="muted small"> (you)</span>}
    </>
  );
}

function UserRole({ user }: { user: UserDto }) {
  const self = useIsSelf(user);
  const update = useUserUpdate(user);
  return (
    <>
      <label className="visually-hidden" htmlFor={`role-${user.id}`}>
        Role of {user.email}
      </label>
      <select
        id={`role-${user.id}`}
        value={user.role}
        disabled={self || update.isPending}
        onChange={(e) => update.mutate({ role: e.target.value as Role })}
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      {update.error && (
        <p className="field-error" role="alert">
          {errorMessage(update.error)}
        </p>
      )}
    </>
  );
}

function UserStatus({ user }: { user: UserDto }) {
  const self = useIsSelf(user);
  const update = useUserUpdate(user);
  return (
    <>
      {user.disabledAt ? <Badge tone="muted">disabled</Badge> : <Badge tone="info">active</Badge>}{' '}
      {!self && (
        <button
          type="button"
          className="btn btn-small"
          disabled={update.isPending}
          onClick={() => update.mutate({ disabled: !user.disabledAt })}
          aria-label={`${user.disabledAt ? 'Enable' : 'Disable'} ${user.email}`}
        >
          {user.disabledAt ? 'Enable' : 'Disable'}
        </button>
      )}
      {update.error && (
        <p className="field-error" role="alert">
          {errorMessage(update.error)}
        </p>
      )}
    </>
  );
}

const USER_COLUMNS: readonly Column<UserDto>[] = [
  { header: 'E-mail', className: 'strong', cell: (u) => <UserEmail user={u} /> },
  { header: 'Role', cell: (u) => <UserRole user={u} /> },
  { header: 'Last sign-in', cell: (u) => (u.lastLoginAt ? formatDateTime(u.lastLoginAt) : '—') },
  { header: 'Status', cell: (u) => <UserStatus user={u} /> },
];

function CreateUserForm() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const create = useMutation({
    mutationFn: () => api.users.create({ email: email.trim(), role, password }),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="New user">
      <h2>New user</h2>
      <FormErrorSummary error={create.error} claimed={(p) => p === 'email' || p === 'role' || p === 'password'} />
      <div className="field-row">
        <div className="field">
          <label htmlFor="user-email">E-mail</label>
          <input
            id="user-email"
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={hasFieldError(create.error, 'email')}
          />
          <FieldError error={create.error} path="email" />
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <p className="hint">{ROLE_HELP[role]}</p>
        </div>
        <div className="field">
          <label htmlFor="user-password">Initial password</label>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={hasFieldError(create.error, 'password')}
            aria-describedby="user-password-hint"
          />
          <p className="hint" id="user-password-hint">
            At least {PASSWORD_MIN_LENGTH} characters. Tell the person; they can change it later.
          </p>
          <FieldError error={create.error} path="password" />
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Adding…' : 'Add user'}
        </button>
      </div>
    </form>
  );
}
