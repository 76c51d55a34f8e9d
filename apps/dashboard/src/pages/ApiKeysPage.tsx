import { useMutation, useQueryClient } from '@tanstack/react-query';
import { API_KEY_TYPES, type ApiKeyDto, type ApiKeyType, type CreatedApiKeyDto } from '@strata/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { useLocation } from 'react-router-dom';
import { errorMessage } from '../api/client';
import { DataTable, type Column } from '../components/DataTable';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { FieldError, FormErrorSummary, hasFieldError } from '../components/FieldError';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { Badge } from '../components/StatusBadge';
import { useApiKeys } from '../hooks/queries';
import { useApi, useSession } from '../hooks/session';
import { formatDateTime, formatRelative } from '../lib/format';

const TYPE_HELP: Record<ApiKeyType, string> = {
  admin: 'Full access to configuration and this dashboard. Keep it secret.',
  'sdk-server': 'For server-side SDKs: assignment and events. Keep it on your servers.',
  'sdk-client': 'For browsers and mobile apps: assignment and events only.',
  ci: "For deployment pipelines: reads an experiment's state and advances, pauses, resumes or reverts its rollout — nothing else.",
};

/** `target`: the key a link points at (`/api-keys#key-<id>`, from the audit log), marked in its row. */
function keyColumns(onRevoke: (k: ApiKeyDto) => void, target: string | null): Column<ApiKeyDto>[] {
  return [
    {
      header: 'Name',
      className: 'strong',
      cell: (k) => (
        <span
          id={`key-${k.id}`}
          className={k.id === target ? 'link-target' : undefined}
          aria-current={k.id === target ? 'true' : undefined}
        >
          {k.name}
        </span>
      ),
    },
    { header: 'Type', cell: (k) => <Badge tone={k.type === 'admin' ? 'warn' : 'info'}>{k.type}</Badge> },
    { header: 'Prefix', className: 'mono', cell: (k) => `${k.prefix}…` },
    { header: 'Created', cell: (k) => formatDateTime(k.createdAt) },
    { header: 'Last used', cell: (k) => <LastUsed at={k.lastUsedAt} /> },
    {
      header: 'Status',
      cell: (k) =>
        k.revokedAt ? (
          <Badge tone="muted">revoked {formatDateTime(k.revokedAt)}</Badge>
        ) : (
          <button type="button" className="btn btn-small" onClick={() => onRevoke(k)} aria-label={`Revoke ${k.name}`}>
            Revoke
          </button>
        ),
    },
  ];
}

/** When a key was last used, relative ("3 minutes ago"), the exact time on hover; "never" for unused keys. */
function LastUsed({ at }: { at: string | null }) {
  if (!at) return <span className="muted">never</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {formatRelative(at)}
    </time>
  );
}

export function ApiKeysPage() {
  const keys = useApiKeys();
  const { hash } = useLocation();
  const target = hash.startsWith('#key-') ? decodeURIComponent(hash.slice('#key-'.length)) : null;
  const loaded = !!keys.data;
  // The rows arrive after the navigation, so the browser's own jump to the #fragment found nothing.
  useEffect(() => {
    if (loaded && target) document.getElementById(`key-${target}`)?.scrollIntoView?.({ block: 'center' });
  }, [loaded, target]);
  const [created, setCreated] = useState<CreatedApiKeyDto | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyDto | null>(null);
  return (
    <section>
      <div className="page-head">
        <h1>API keys</h1>
      </div>
      <CreateKeyForm onCreated={setCreated} />
      {created && <SecretDialog created={created} onClose={() => setCreated(null)} />}
      {revoking && <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} />}
      <div className="section">
        {keys.isLoading ? (
          <Loading />
        ) : keys.error ? (
          <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
        ) : keys.data && keys.data.items.length === 0 ? (
          <EmptyState title="No API keys">Create an SDK key above so your app can fetch assignments and send events.</EmptyState>
        ) : (
          <DataTable columns={keyColumns(setRevoking, target)} rows={keys.data?.items ?? []} rowKey={(k) => k.id} />
        )}
      </div>
    </section>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (k: CreatedApiKeyDto) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<ApiKeyType>('sdk-server');
  const create = useMutation({
    mutationFn: () => api.apiKeys.create({ name, type }),
    onSuccess: (k) => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      onCreated(k);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="New API key">
      <h2>New API key</h2>
      <FormErrorSummary error={create.error} claimed={(p) => p === 'name' || p === 'type'} />
      <div className="field-row">
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input
            id="key-name"
            value={name}
            placeholder="web-backend"
            onChange={(e) => setName(e.target.value)}
            aria-invalid={hasFieldError(create.error, 'name')}
          />
          <FieldError error={create.error} path="name" />
        </div>
        <div className="field">
          <label htmlFor="key-type">Type</label>
          <select id="key-type" value={type} onChange={(e) => setType(e.target.value as ApiKeyType)}>
            {API_KEY_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <p className="hint">{TYPE_HELP[type]}</p>
          <FieldError error={create.error} path="type" />
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}

function SecretDialog({ created, onClose }: { created: CreatedApiKeyDto; onClose: () => void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Dialog
      title={`Key “${created.name}” created`}
      onClose={onClose}
      footer={
        <button type="button" className="btn btn-primary" onClick={onClose}>
          I have saved it
        </button>
      }
    >
      <p>
        Copy the secret now: <strong>it is shown only once</strong>. Strata stores only a hash, so it cannot show it again.
      </p>
      <div className="secret">
        <code data-testid="api-key-secret">{created.secret}</code>
        <button type="button" className="btn btn-small" onClick={() => void copy()} data-autofocus>
          Copy
        </button>
      </div>
      <p role="status" className="small">
        {copied === true ? 'Copied to the clipboard.' : copied === false ? 'Copy failed: select the text and copy it by hand.' : ''}
      </p>
    </Dialog>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKeyDto; onClose: () => void }) {
  const api = useApi();
  const { key: signedInWith, signOut } = useSession();
  const queryClient = useQueryClient();
  // The prefix is the start of the secret, so it tells whether this is the key in use.
  const isOwnKey = !!signedInWith && apiKey.type === 'admin' && signedInWith.startsWith(apiKey.prefix);
  const revoke = useMutation({
    mutationFn: () => api.apiKeys.revoke(apiKey.id),
    onSuccess: () => {
      if (isOwnKey) {
        queryClient.clear();
        signOut();
        return;
      }
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={`Revoke “${apiKey.name}”?`}
      description={
        `Requests with this ${apiKey.type} key (${apiKey.prefix}…) are refused from now on. Apps still using it stop getting assignments and their events are rejected. This cannot be undone.` +
        (isOwnKey ? ' This is the key you are signed in with: you will be signed out.' : '')
      }
      confirmLabel="Revoke key"
      danger
      busy={revoke.isPending}
      error={revoke.error ? errorMessage(revoke.error) : null}
      onConfirm={() => revoke.mutate()}
      onCancel={onClose}
    />
  );
}
