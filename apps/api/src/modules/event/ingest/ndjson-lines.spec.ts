import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineTooLongError, ndjsonLines } from './ndjson-lines';

const collect = async (chunks: string[], max?: number) => {
  const out: string[] = [];
  for await (const line of ndjsonLines(Readable.from(chunks.map((c) => Buffer.from(c))), max)) out.push(line);
  return out;
};

describe('ndjsonLines', () => {
  it('splits lines across chunk boundaries, strips CR, keeps a last line without newline', async () => {
    expect(await collect(['{"a":', '1}\r\n{"b"', ':2}\n\n', '{"c":3}'])).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}']);
  });

  it('refuses a line longer than the limit instead of buffering it', async () => {
    await expect(collect(['x'.repeat(50), 'y'.repeat(60)], 100)).rejects.toBeInstanceOf(LineTooLongError);
  });

  it('decodes multi-byte characters split between chunks', async () => {
    const bytes = Buffer.from('{"u":"é🙂"}\n');
    const out: string[] = [];
    for await (const line of ndjsonLines(Readable.from([bytes.subarray(0, 8), bytes.subarray(8)]))) out.push(line);
    expect(out).toEqual(['{"u":"é🙂"}']);
  });
});
