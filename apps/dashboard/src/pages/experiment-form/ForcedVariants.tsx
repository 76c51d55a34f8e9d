import { FieldError } from '../../components/FieldError';
import { newForced, type ExperimentDraft } from '../../lib/experiment-draft';

/** Units pinned to a variant (QA), with optional expiry. */
export function ForcedVariants({
  draft,
  set,
  error,
}: {
  draft: ExperimentDraft;
  set: (p: Partial<ExperimentDraft>) => void;
  error: unknown;
}) {
  const update = (i: number, patch: Partial<ExperimentDraft['forced'][number]>) =>
    set({ forced: draft.forced.map((f, j) => (j === i ? { ...f, ...patch } : f)) });
  return (
    <fieldset className="fieldset">
      <legend>Forced variants</legend>
      <p className="hint">Pin specific units (e.g. your own user id for QA) to a variant, regardless of traffic and targeting.</p>
      {draft.forced.map((f, i) => (
        <div className="variant-row" key={f.id}>
          <div className="field">
            <label htmlFor={`forced-${i}-unit`}>Unit id</label>
            <input id={`forced-${i}-unit`} value={f.unitId} onChange={(e) => update(i, { unitId: e.target.value })} />
            <FieldError error={error} path={`forcedVariants.${i}.unitId`} />
          </div>
          <div className="field">
            <label htmlFor={`forced-${i}-variant`}>Variant</label>
            <select id={`forced-${i}-variant`} value={f.variant} onChange={(e) => update(i, { variant: e.target.value })}>
              <option value="">Choose…</option>
              {draft.variants.map((v) => (
                <option key={v.id} value={v.key}>
                  {v.key}
                </option>
              ))}
            </select>
            <FieldError error={error} path={`forcedVariants.${i}.variant`} />
          </div>
          <div className="field">
            <label htmlFor={`forced-${i}-expires`}>Expires (optional)</label>
            <input
              id={`forced-${i}-expires`}
              type="datetime-local"
              value={f.expiresAt}
              onChange={(e) => update(i, { expiresAt: e.target.value })}
            />
            <FieldError error={error} path={`forcedVariants.${i}.expiresAt`} />
          </div>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => set({ forced: draft.forced.filter((_, j) => j !== i) })}
            aria-label={`Remove forced unit ${i + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="row-actions">
        <button type="button" className="btn" onClick={() => set({ forced: [...draft.forced, newForced(draft.variants[0]?.key ?? '')] })}>
          Add forced unit
        </button>
      </div>
      <FieldError error={error} path="forcedVariants" />
    </fieldset>
  );
}
