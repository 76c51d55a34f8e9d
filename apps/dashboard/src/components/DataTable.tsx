import { Fragment, type ReactNode } from 'react';

/** One column: its header, the label each cell carries in the stacked (phone) layout, and the cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Right-aligned figures (header and cells). */
  numeric?: boolean;
  /** Extra class of the cell: fixed, or from the row (a verdict's tone). */
  className?: string | ((row: T) => string);
}

interface Props<T> {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** A full-width row under a row (the audit diff), with the id its toggle's `aria-controls` names. */
  detail?: (row: T) => { id: string; content: ReactNode } | null;
  /** Names the table for assistive technology when the heading above does not. */
  label?: string;
  /** Class of the wrapper (e.g. `section`). */
  className?: string;
}

/**
 * The dashboard's one table: a scrolling wrapper, column headers, and cells labelled for the
 * stacked layout that narrow screens get (styles.css `.table-stack`: each cell shows its
 * `data-label`). Headless libraries (TanStack Table) add sorting and column state none of these
 * lists uses; this is their common shape and nothing more.
 */
export function DataTable<T>({ columns, rows, rowKey, detail, label, className }: Props<T>) {
  return (
    <div className={className ? `table-wrap ${className}` : 'table-wrap'}>
      <table className="table table-stack" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const extra = detail?.(row) ?? null;
            return (
              <Fragment key={rowKey(row)}>
                <tr>
                  {columns.map((c) => (
                    <td key={c.header} data-label={c.header} className={cellClass(c, row)}>
                      {c.cell(row)}
                    </td>
                  ))}
                </tr>
                {extra && (
                  <tr>
                    <td colSpan={columns.length} id={extra.id}>
                      {extra.content}
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function cellClass<T>(c: Column<T>, row: T): string | undefined {
  const extra = typeof c.className === 'function' ? c.className(row) : c.className;
  const classes = [c.numeric ? 'num' : '', extra ?? ''].filter(Boolean).join(' ');
  return classes || undefined;
}
