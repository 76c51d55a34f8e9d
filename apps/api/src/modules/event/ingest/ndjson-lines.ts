import type { Readable } from 'node:stream';

export class LineTooLongError extends Error {
  constructor(readonly line: number, readonly max: number) {
    super(`line ${line} is longer than ${max} characters`);
  }
}

/**
 * Lines of an NDJSON stream, read as they arrive (the body is never buffered whole). A line longer
 * than `maxLine` characters stops the stream: one missing newline must not exhaust memory.
 */
export async function* ndjsonLines(stream: Readable, maxLine = 1024 * 1024): AsyncGenerator<string> {
  stream.setEncoding('utf8');
  let rest = '';
  let count = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      count++;
      yield text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      start = nl + 1;
    }
    text = text.slice(start);
    if (text.length > maxLine) throw new LineTooLongError(count + 1, maxLine);
    rest = text;
  }
  if (rest.length > 0) yield rest;
}
