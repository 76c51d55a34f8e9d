import { useEffect, useRef } from 'react';
import { ApiError } from '../api/client';

/** The API's validation messages for one field, shown right under it. */
export function FieldError({ error, path, id }: { error: unknown; path: string; id?: string }) {
  if (!(error instanceof ApiError)) return null;
  const messages = error.messagesFor(path);
  if (messages.length === 0) return null;
  return (
    <p className="field-error" id={id} data-path={path}>
      {messages.join('; ')}
    </p>
  );
}

/** True when the error names this field, for `aria-invalid`. */
export function hasFieldError(error: unknown, path: string): boolean {
  return error instanceof ApiError && error.messagesFor(path).length > 0;
}

/**
 * The error's summary at the top of a form, with the details no field claims (so nothing the
 * API said is lost when a path has no matching input).
 */
export function FormErrorSummary({ error, claimed }: { error: unknown; claimed: (path: string) => boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // After a rejected submit, focus goes where the problem is — the first field marked invalid, else
  // this summary — not left on the button (or dropped to the body when the button re-renders).
  useEffect(() => {
    if (!error || !ref.current) return;
    focusFirstError(ref.current.closest('form') ?? ref.current.parentElement, ref.current);
  }, [error]);
  if (!error) return null;
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  const loose = error instanceof ApiError ? error.details.filter((d) => !claimed(d.path ?? '')) : [];
  return (
    <div className="form-error" role="alert" tabIndex={-1} ref={ref}>
      <p>{error instanceof ApiError && error.code === 'validation_failed' ? 'Please fix the highlighted fields.' : message}</p>
      {loose.length > 0 && (
        <ul>
          {loose.map((d, i) => (
            <li key={i}>
              {d.path ? <code>{d.path}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Focuses (and scrolls to) the first invalid control inside `scope`, or `fallback` when none is marked. */
export function focusFirstError(scope: Element | null, fallback?: HTMLElement | null): void {
  const target = scope?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? fallback ?? null;
  if (!target) return;
  target.focus();
  if (typeof target.scrollIntoView === 'function') target.scrollIntoView({ block: 'center' });
}
