// Assignment over HTTP: POST /v1/assign on the real API (NestJS + Fastify) backed by embedded PostgreSQL.
// Run: npm run bench -- assign-http          (BENCH_SECONDS=20, BENCH_CONNECTIONS=32 to change)
//
// Setup through the API: 20 layers × 5 running experiments (20 % of the layer's buckets each,
// 50/50), every 4th targeted on `country in [DE, AT]`. Then autocannon, in a child process so
// it does not share the server's event loop, sends POST /v1/assign with a different unit id
// and attributes per request, to 127.0.0.1. Target on the reference 2-core machine (load
// generator included): ≥ 10,000 requests/s with p99 ≤ 10 ms.
import 'reflect-metadata';
import autocannon from 'autocannon';
import { startBenchApi } from './_api';
import { adminCall, runChildBench, wasPinned } from './_child';

const LAYERS = 20;
const PER_LAYER = 5;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN_KEY = 'sk_admin_bench-assign-http-0123456789';

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Child process: autocannon against `url` for `seconds`, one JSON line of results on stdout. */
async function load(url: string, key: string, seconds: number): Promise<void> {
  const countries = ['DE', 'AT', 'FR', 'US', 'GB', 'IT', 'ES', 'NL'];
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/assign',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        setupRequest: (req) => {
          n++;
          return { ...req, body: `{"unitId":"user-${n}-${(n * 2654435761) >>> 0}","attributes":{"country":"${countries[n & 7]}","plan":"${n % 3 ? 'free' : 'pro'}"}}` };
        },
      },
    ],
  });
  const out: LoadResult = {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runLoad(url: string, key: string, seconds: number): Promise<LoadResult> {
  return runChildBench<LoadResult>(__filename, ['--load', url, key, String(seconds)], { pin: true });
}

function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  return adminCall<T>(ADMIN_KEY, base, method, path, body);
}

async function main(): Promise<void> {
  const bench = await startBenchApi(ADMIN_KEY);
  const { base } = bench;
  try {

    for (let l = 0; l < LAYERS; l++) {
      await api(base, 'POST', '/v1/layers', { key: `layer-${l}`, name: `Layer ${l}` });
      for (let e = 0; e < PER_LAYER; e++) {
        const n = l * PER_LAYER + e;
        await api(base, 'POST', '/v1/experiments', {
          key: `exp-${n}`,
          name: `Experiment ${n}`,
          layer: `layer-${l}`,
          variants: [
            { key: 'control', weight: 0.5 },
            { key: 'treatment', weight: 0.5 },
          ],
          traffic: 20,
          ...(n % 4 === 0 ? { targeting: { attribute: 'country', operator: 'in', value: ['DE', 'AT'] } } : {}),
        });
        await api(base, 'POST', `/v1/experiments/exp-${n}/start`);
      }
    }
    const sdkKey = (await api<{ secret: string }>(base, 'POST', '/v1/api-keys', { name: 'bench', type: 'sdk-server' })).secret;
    for (let i = 0; ; i++) {
      const snapshot = await api<{ experiments: unknown[] }>(base, 'GET', '/v1/sdk/config');
      if (snapshot.experiments.length === LAYERS * PER_LAYER) break;
      if (i > 100) throw new Error('the snapshot never picked up the configuration');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sample = await api<{ assignments: unknown[] }>(base, 'POST', '/v1/assign', { unitId: 'user-1', attributes: { country: 'DE' } });
    console.log(`configured ${LAYERS} layers × ${PER_LAYER} running experiments; user-1 gets ${sample.assignments.length} assignments`);

    await runLoad(base, sdkKey, 3); // warm-up: JIT, connection setup
    const cpuBefore = process.cpuUsage();
    const r = await runLoad(base, sdkKey, SECONDS);
    const cpu = process.cpuUsage(cpuBefore);
    // Server CPU per request: a figure that contention on a shared machine distorts far less than req/s.
    const cpuPerRequest = (cpu.user + cpu.system) / Math.max(1, r.total);
    const ok = r.requestsPerSecond >= 10_000 && r.p99 <= 10;
    console.log(
      `POST /v1/assign, ${CONNECTIONS} connections, ${SECONDS} s, autocannon in a child process on the same machine` +
        (wasPinned() ? ' (API pinned to core 0, autocannon to core 1; BENCH_PIN=0 to let them float)' : ' (not pinned to cores)'),
    );
    console.log(`  requests/s  ${Math.round(r.requestsPerSecond).toLocaleString('en-US')}   (total ${r.total.toLocaleString('en-US')}, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})`);
    console.log(`  latency ms  p50 ${r.p50}   p90 ${r.p90}   p99 ${r.p99}   max ${r.max}`);
    console.log(`  server CPU  ${cpuPerRequest.toFixed(1)} µs per request (user + system; one core can then serve ~${Math.round(1e6 / cpuPerRequest).toLocaleString('en-US')} req/s)`);
    console.log(`  target ≥ 10,000 req/s and p99 ≤ 10 ms: ${ok ? 'met' : 'MISSED'}`);
  } finally {
    await bench.stop();
  }
}

if (process.argv[2] === '--load') {
  load(process.argv[3], process.argv[4], Number(process.argv[5])).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
