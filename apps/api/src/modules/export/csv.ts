import { Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';

/**
 * CSV as RFC 4180 (header row, quoted when needed, CRLF line ends), UTF-8 with a byte-order mark:
 * Excel reads BOM-less UTF-8 as the local code page and mangles non-ASCII unit ids; every other
 * spreadsheet and CSV parser skips the BOM.
 */
const OPTIONS = { header: true, bom: true, record_delimiter: 'windows', cast: { date: (d: Date) => d.toISOString(), boolean: (b: boolean) => (b ? 'true' : 'false') } } as const;

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
