import type { InputHTMLAttributes } from 'react';
import { FieldError, hasFieldError } from './FieldError';

/** A labelled text input with its hint and the API's error for `path` beside it. */
export function TextField({
  id,
  path,
  label,
  value,
  onChange,
  error,
  hint,
  inputProps = {},
}: {
  id: string;
  /** The request field the API names in its error details. */
  path: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: unknown;
  hint?: string;
  inputProps?: InputHTMLAttributes<HTMLInputElement>;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={hasFieldError(error, path)} {...inputProps} />
      {hint && <p className="hint">{hint}</p>}
      <FieldError error={error} path={path} />
    </div>
  );
}
