import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvString, neutraliseCell } from './csv';

describe('CSV cells', () => {
  it('prefixes text that a spreadsheet would run as a formula, and leaves numbers alone', () => {
    for (const v of ['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://x","y")', '\uFF1D1', '-', '+'])
      expect(neutraliseCell(v), JSON.stringify(v)).toBe(`'${v}`);
    for (const v of ['-0.5', '+3', '-1e-7', '12', '.5', 'a=b', 'plain', '', "'quoted"]) expect(neutraliseCell(v), v).toBe(v);
  });

  it('parses back with a real CSV parser, formulas neutralised, CR and LF kept inside quoted fields', () => {
    const rows = [
      { name: '=HYPERLINK("http://evil","x")', value: -0.25, note: 'a\rb' },
      { name: '@cmd', value: 3, note: 'line1\nline2' },
      { name: '-2', value: null, note: '\r' },
    ];
    const text = csvString(['name', 'value', 'note'], rows);
    expect(text).toContain('"a\rb"');
    expect(text).toContain(`"'\r"`);
    const back = parse(text, { bom: true, columns: true, relax_quotes: false }) as Record<string, string>[];
    expect(back).toEqual([
      { name: `'=HYPERLINK("http://evil","x")`, value: '-0.25', note: 'a\rb' },
      { name: "'@cmd", value: '3', note: 'line1\nline2' },
      { name: '-2', value: '', note: "'\r" },
    ]);
  });
});
