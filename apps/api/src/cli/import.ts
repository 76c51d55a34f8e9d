import { createReadStream, statSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { EventRejection, EventRejectionCode, ImportResponse } from '@strata/contracts';
import { ndjsonLines } from '../modules/event/ingest/ndjson-lines';

/**
 * npm run import -- events.ndjson [--url http://localhost:3000] [--key sk_admin_…] [--chunk 20000]
 *
 * Streams an NDJSON file (one event per line, the shape of POST /v1/events) to a running API's
 * POST /v1/events/import in chunks of lines, with a progress bar. The file is never read whole.
 * A chunk answered 503/429 is re-sent after Retry-After: events with an `id` are deduplicated by
 * the server, so a retry never stores them twice (events without an id might be, if a 503 raced a commit).
 * Env: STRATA_URL, STRATA_ADMIN_KEY.
 */
interface Options {
  file: string;
  url: string;
  key: string;
  chunk: number;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('usage: npm run import -- <file.ndjson> [--url URL] [--key ADMIN_KEY] [--chunk LINES]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  let file: string | undefined;
  let url = process.env.STRATA_URL ?? 'http://localhost:3000';
  let key = process.env.STRATA_ADMIN_KEY ?? '';
  let chunk = 20_000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--url') url = value();
    else if (a === '--key') key = value();
    else if (a === '--chunk') chunk = Number(value());
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else file = a;
  }
  if (!file) usage('no file given');
  if (!key) usage('no admin key: pass --key or set STRATA_ADMIN_KEY');
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 1_000_000) usage('--chunk must be an integer between 1 and 1000000');
  return { file, url: url.replace(/\/+$/, ''), key, chunk };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function sendChunk(o: Options, body: string): Promise<ImportResponse> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${o.url}/v1/events/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/x-ndjson' },
        body,
      });
    } catch (error) {
      if (attempt >= 10) throw new Error(`cannot reach ${o.url}: ${String(error)}`);
      await sleep(1000 * attempt);
      continue;
    }
    if (res.ok) return (await res.json()) as ImportResponse;
    const text = await res.text();
    if ((res.status === 503 || res.status === 429) && attempt < 30) {
      await sleep(Math.max(1, Number(res.headers.get('retry-after')) || 1) * 1000);
      continue;
    }
    throw new Error(`import failed: HTTP ${res.status} ${text.slice(0, 500)}`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const size = statSync(o.file).size;
  const input = createReadStream(o.file, { highWaterMark: 1 << 20 });
  const bar = new SingleBar(
    { format: 'import |{bar}| {percentage}% | {mb}/{totalMb} MiB | {events} stored, {rejected} rejected | {rate} events/s', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  const total = { lines: 0, accepted: 0, duplicates: 0, rejectedCount: 0, byCode: {} as Partial<Record<EventRejectionCode, number>>, rejected: [] as EventRejection[] };
  const started = Date.now();
  bar.start(size, 0, { mb: '0.0', totalMb: mb(size), events: 0, rejected: 0, rate: 0 });

  const flush = async (lines: string[], firstLine: number): Promise<void> => {
    if (lines.length === 0) return;
    const r = await sendChunk(o, `${lines.join('\n')}\n`);
    total.accepted += r.accepted;
    total.duplicates += r.duplicates;
    total.rejectedCount += r.rejectedCount;
    for (const [code, n] of Object.entries(r.rejectedByCode) as [EventRejectionCode, number][]) total.byCode[code] = (total.byCode[code] ?? 0) + n;
    // The server numbers lines within the chunk; report file line numbers.
    for (const x of r.rejected) if (total.rejected.length < 100) total.rejected.push({ ...x, index: firstLine + x.index - 1 });
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    bar.update(input.bytesRead, { mb: mb(input.bytesRead), events: total.accepted, rejected: total.rejectedCount, rate: Math.round((total.accepted + total.duplicates) / seconds) });
  };

  let chunk: string[] = [];
  let firstLine = 1;
  for await (const line of ndjsonLines(input, 8 * 1024 * 1024)) {
    total.lines++;
    chunk.push(line);
    if (chunk.length >= o.chunk) {
      await flush(chunk, firstLine);
      firstLine = total.lines + 1;
      chunk = [];
    }
  }
  await flush(chunk, firstLine);
  bar.update(size, { mb: mb(size) });
  bar.stop();

  const seconds = (Date.now() - started) / 1000;
  console.log(`${total.lines} lines in ${seconds.toFixed(1)} s: ${total.accepted} stored, ${total.duplicates} duplicates, ${total.rejectedCount} rejected`);
  for (const [code, n] of Object.entries(total.byCode)) console.log(`  ${code}: ${n}`);
  for (const r of total.rejected.slice(0, 20)) console.log(`  line ${r.index}: ${r.code} ${r.message}`);
  if (total.rejectedCount > 20) console.log(`  … ${total.rejectedCount - Math.min(20, total.rejected.length)} more rejected lines not listed`);
}

main().catch((error: unknown) => {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
