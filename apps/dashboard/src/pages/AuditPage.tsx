import { AUDIT_ENTITY_TYPES, type AuditEntityType, type AuditEntryDto, type AuditQuery } from '@strata/contracts';
import { Fragment, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { EmptyState, ErrorState, Loading, Pager } from '../components/States';
import { useAudit } from '../hooks/queries';
import { useDebounced } from '../hooks/useDebounced';
import { useCan } from '../hooks/session';
import { formatDateTime } from '../lib/format';

const PAGE = 25;

/** The person (e-mail), the API key (its name, linked to its row for admins) or the system behind a change. */
function Actor({ entry }: { entry: AuditEntryDto }) {
  const { actor } = entry;
  const can = useCan();
  if (actor.kind === 'user') return <span>{actor.name}</span>;
  if (actor.kind === 'api_key') {
    return (
      <span>
        {can.admin && actor.id ? <Link to={`/api-keys#key-${encodeURIComponent(actor.id)}`}>{actor.name}</Link> : actor.name}{' '}
        <span className="muted small">(API key)</span>
      </span>
    );
  }
  return <span className="muted">{actor.name}</span>;
}

/** The entity-type filter from the URL: a known type, or none. */
function entityTypeOf(value: string): AuditEntityType | undefined {
  return AUDIT_ENTITY_TYPES.find((t) => t === value);
}

/** `datetime-local` text → ISO-8601 with offset, as the API expects. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export interface DiffRow {
  field: string;
  before: string;
  after: string;
  changed: boolean;
}

const show = (v: unknown): string =>
  v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' ? v.toLocaleString('en-US') : JSON.stringify(v, null, 2);

/** Field-by-field comparison of an audit entry's before and after values. */
export function diffRows(before: unknown, after: unknown): DiffRow[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(before) && !isObj(after))
    return [{ field: '(value)', before: show(before), after: show(after), changed: show(before) !== show(after) }];
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys
    .map((k) => ({ field: k, before: show(b[k]), after: show(a[k]), changed: show(b[k]) !== show(a[k]) }))
    .sort((x, y) => Number(y.changed) - Number(x.changed));
}

function auditColumns(open: string | null, setOpen: (id: string | null) => void): Column<AuditEntryDto>[] {
  return [
    { header: 'When', cell: (a) => formatDateTime(a.at) },
    { header: 'Action', className: 'mono', cell: (a) => a.action },
    {
      header: 'Entity',
      cell: (a) => (
        <>
          {a.entityType} <EntityLink type={a.entityType} entityKey={a.entityKey} />
        </>
      ),
    },
    { header: 'By', cell: (a) => <Actor entry={a} /> },
    {
      header: 'Changes',
      cell: (a) => (
        <button
          type="button"
          className="btn btn-small"
          aria-expanded={open === a.id}
          aria-controls={`diff-${a.id}`}
          onClick={() => setOpen(open === a.id ? null : a.id)}
        >
          {open === a.id ? 'Hide' : 'Show'} diff
        </button>
      ),
    },
  ];
}

export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const filters = {
    entityType: params.get('entityType') ?? '',
    entityKey: params.get('entityKey') ?? '',
    action: params.get('action') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
  const offset = Number(params.get('offset') ?? 0) || 0;
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    next.delete('offset');
    setParams(next, { replace: true });
  };
  // Typed filters wait for a pause in typing before they query.
  const entityKey = useDebounced(filters.entityKey.trim());
  const action = useDebounced(filters.action.trim());
  const query: AuditQuery = {
    entityType: entityTypeOf(filters.entityType),
    entityKey: entityKey || undefined,
    action: action || undefined,
    since: toIso(filters.since),
    until: toIso(filters.until),
    limit: PAGE,
    offset,
  };
  const audit = useAudit(query);
  const [open, setOpen] = useState<string | null>(null);
  const filtered = Object.values(filters).some(Boolean);

  return (
    <section>
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <p className="muted">Every configuration change, who made it (a person, or an API key by its name) and what it changed.</p>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="audit-type">Entity type</label>
          <select id="audit-type" value={filters.entityType} onChange={(e) => setFilter('entityType', e.target.value)}>
            <option value="">All</option>
            {AUDIT_ENTITY_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-key">Entity key</label>
          <input id="audit-key" value={filters.entityKey} onChange={(e) => setFilter('entityKey', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            placeholder="experiment.start"
            value={filters.action}
            onChange={(e) => setFilter('action', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-since">Since</label>
          <input id="audit-since" type="datetime-local" value={filters.since} onChange={(e) => setFilter('since', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={filters.until} onChange={(e) => setFilter('until', e.target.value)} />
        </div>
      </div>
      {audit.isLoading ? (
        <Loading />
      ) : audit.error ? (
        <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />
      ) : audit.data && audit.data.items.length === 0 ? (
        <EmptyState title={filtered ? 'No entries match these filters' : 'Nothing has changed yet'}>
          {filtered ? 'Widen the time range or clear a filter.' : 'Creating layers, metrics, experiments and keys records entries here.'}
        </EmptyState>
      ) : (
        <>
          <DataTable
            columns={auditColumns(open, setOpen)}
            rows={audit.data?.items ?? []}
            rowKey={(a) => a.id}
            detail={(a) => (open === a.id ? { id: `diff-${a.id}`, content: <Diff entry={a} /> } : null)}
          />
          {audit.data && (
            <Pager
              total={audit.data.total}
              limit={PAGE}
              offset={offset}
              onChange={(o) => {
                const next = new URLSearchParams(params);
                next.set('offset', String(o));
                setParams(next);
              }}
            />
          )}
        </>
      )}
    </section>
  );
}

function Diff({ entry }: { entry: AuditEntryDto }) {
  const all = diffRows(entry.before, entry.after);
  const [showAll, setShowAll] = useState(false);
  const unchanged = all.filter((r) => !r.changed).length;
  const rows = showAll ? all : all.filter((r) => r.changed);
  return (
    <>
      <div className="diff" role="table" aria-label={`Changes of ${entry.action} on ${entry.entityKey}`}>
        <div className="diff-head" role="columnheader">
          Field
        </div>
        <div className="diff-head" role="columnheader">
          Before
        </div>
        <div className="diff-head" role="columnheader">
          After
        </div>
        {rows.map((r) => (
          <Fragment key={r.field}>
            <div className={r.changed ? 'diff-changed' : ''} role="cell">
              {r.field}
              {r.changed ? ' •' : ''}
            </div>
            <div className={r.changed ? 'diff-changed diff-before' : ''} role="cell">
              {r.before || '—'}
            </div>
            <div className={r.changed ? 'diff-changed diff-after' : ''} role="cell">
              {r.after || '—'}
            </div>
          </Fragment>
        ))}
      </div>
      {unchanged > 0 && (
        <button type="button" className="btn btn-small section" onClick={() => setShowAll((v) => !v)} aria-expanded={showAll}>
          {showAll ? 'Hide' : 'Show'} {unchanged} unchanged field{unchanged === 1 ? '' : 's'}
        </button>
      )}
    </>
  );
}

/** Experiments and layers have a page: link to it; other entities (keys, metrics) show their key. */
function EntityLink({ type, entityKey }: { type: AuditEntityType; entityKey: string }) {
  const to = type === 'experiment' ? `/experiments/${entityKey}` : type === 'layer' ? `/layers/${entityKey}` : null;
  return to ? (
    <Link to={to} className="mono">
      {entityKey}
    </Link>
  ) : (
    <span className="mono">{entityKey}</span>
  );
}
