import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { SingleBar, Presets } from 'cli-progress';

/**
 * npm run export -- --experiment KEY --out results.csv [--units] [--format csv|json|ndjson|parquet]
 *                   [--url http://localhost:3000] [--key ADMIN_KEY]
 *
 * Downloads the results table (default) or one row per unit (--units) from a running API,
 * streaming to the file with a progress bar. The key defaults to STRATA_ADMIN_KEY, the URL to
 * STRATA_URL or http://localhost:$PORT.
 */

interface Args {
  experiment: string;
  out: string;
  units: boolean;
  format: string;
  url: string;
  key: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const experiment = get('experiment');
  const out = get('out');
  const units = argv.includes('--units');
  if (!experiment || !out) {
    throw new Error('usage: npm run export -- --experiment KEY --out FILE [--units] [--format csv|json|ndjson] [--url URL] [--key ADMIN_KEY]');
  }
  const format = get('format') ?? (out.endsWith('.json') ? 'json' : out.endsWith('.ndjson') ? 'ndjson' : out.endsWith('.parquet') ? 'parquet' : 'csv');
  const allowed = units ? ['csv', 'ndjson', 'parquet'] : ['csv', 'json', 'parquet'];
  if (!allowed.includes(format)) throw new Error(`--format must be one of ${allowed.join(', ')}${units ? ' with --units' : ''}`);
  const url = (get('url') ?? process.env.STRATA_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/$/, '');
  const key = get('key') ?? process.env.STRATA_ADMIN_KEY;
  if (!key) throw new Error('an admin key is needed: --key or STRATA_ADMIN_KEY');
  return { experiment, out, units, format, url, key };
}

async function request(args: Args, path: string): Promise<Response> {
  const res = await fetch(`${args.url}${path}`, { headers: { authorization: `Bearer ${args.key}` } });
  if (!res.ok) {
    const body = await res.text();
    let message = body;
    try {
      message = (JSON.parse(body) as { error: { message: string } }).error.message;
    } catch {
      // not the API's error shape: show the text
    }
    throw new Error(`${res.status} from ${path}: ${message}`);
  }
  return res;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const key = encodeURIComponent(args.experiment);
  // The number of units sizes the progress bar (one line per unit, plus the header).
  const results = (await (await request(args, `/v1/experiments/${key}/results`)).json()) as { totalUnits: number; dataThrough: string | null };
  const total = args.units ? results.totalUnits : 1;
  const path = args.units ? `/v1/experiments/${key}/export/units?format=${args.format}` : `/v1/experiments/${key}/export?format=${args.format}`;
  const res = await request(args, path);
  const file = createWriteStream(args.out);
  // Parquet is binary (no line per unit): its progress is the bytes received.
  const binary = args.format === 'parquet';
  const bar = new SingleBar(
    { format: binary ? `${args.units ? 'units' : 'results'} | {mb} MB received` : `${args.units ? 'units' : 'results'} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left` },
    Presets.shades_classic,
  );
  bar.start(total, 0, { mb: '0.0' });
  let bytes = 0;
  let lines = args.units && args.format === 'csv' ? -1 : 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!file.write(value)) await once(file, 'drain');
    bytes += value.length;
    if (binary) bar.update(0, { mb: (bytes / 1e6).toFixed(1) });
    else if (args.units) {
      for (let i = 0; i < value.length; i++) if (value[i] === 0x0a) lines++;
      bar.update(Math.max(0, Math.min(lines, total)));
    }
  }
  bar.update(total, { mb: (bytes / 1e6).toFixed(1) });
  bar.stop();
  file.end();
  await once(file, 'finish');
  console.log(`Wrote ${args.out} (${args.units ? `${binary ? results.totalUnits : Math.max(lines, 0)} units` : 'results table'}, events received through ${results.dataThrough ?? 'n/a'}).`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
