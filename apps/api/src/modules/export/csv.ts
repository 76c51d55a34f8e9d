import { Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';

/** A plain decimal number, as PostgreSQL sends numeric and bigint columns (strings): never a formula. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** First characters a spreadsheet reads as a formula or a command (OWASP CSV injection), full-width forms included. */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Text cells that would run as a formula in a spreadsheet (`=HYPERLINK(…)` as a metric name, a unit
 * id `@SUM(…)`) get a leading `'` (OWASP), which spreadsheets show as text; numbers, `-0.5`
 * included, stay numbers. Exported names and unit ids come from API callers, SDK keys included.
 */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) && !NUMBER.test(value) ? `'${value}` : value;
}

/**
 * CSV as RFC 4180 (header row, quoted when needed, CRLF line ends), UTF-8 with a byte-order mark:
 * Excel reads BOM-less UTF-8 as the local code page and mangles non-ASCII unit ids; every other
 * spreadsheet and CSV parser skips the BOM. A field with a CR or LF anywhere is always quoted.
 */
const OPTIONS = {
  header: true,
  bom: true,
  record_delimiter: 'windows',
  quoted_match: /[\r\n]/,
  cast: { date: (d: Date) => d.toISOString(), boolean: (b: boolean) => (b ? 'true' : 'false'), string: neutraliseCell },
} as const;

export function csvStream(columns: string[]): Transform {
  return stringify({ ...OPTIONS, columns });
}

export function csvString(columns: string[], rows: Record<string, unknown>[]): string {
  return stringifySync(rows, { ...OPTIONS, columns });
}

/** Newline-delimited JSON: one object per line, LF. */
export function ndjsonStream(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(row: unknown, _enc, cb) {
      cb(null, `${JSON.stringify(row)}\n`);
    },
  });
}
