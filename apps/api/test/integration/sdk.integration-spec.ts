import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type StrataClient } from '@strata/sdk';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * @strata/sdk against the real API over HTTP: local assignment agrees with the server for
 * 10,000 ids, and exposures and tracks are stored exactly once, also when the API (through a
 * fault-injecting proxy) answers 503 after it already stored a batch.
 */
let t: TestApp;
let base: string;
let sdkKey: string;
const clients: StrataClient[] = [];

const EXPERIMENTS = ['checkout-a', 'checkout-b', 'onboarding'];

beforeAll(async () => {
  t = await createTestApp();
  base = await t.listen();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'sdk it', type: 'sdk-server' })).body.secret;
  for (const key of ['checkout', 'growth']) expect((await t.admin('POST', '/v1/layers', { key, name: key })).status).toBe(201);
  const bodies = [
    {
      key: 'checkout-a',
      layer: 'checkout',
      traffic: 40,
      variants: [
        { key: 'control', weight: 0.2 },
        { key: 'blue', weight: 0.3 },
        { key: 'green', weight: 0.5 },
      ],
      forcedVariants: [{ unitId: 'id-7', variant: 'green' }],
    },
    { key: 'checkout-b', layer: 'checkout', traffic: 60, targeting: { attribute: 'country', operator: 'in', value: ['DE', 'AT'] } },
    { key: 'onboarding', layer: 'growth', traffic: 100 },
  ];
  for (const b of bodies) {
    const res = await t.admin('POST', '/v1/experiments', {
      name: b.key,
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      ...b,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await t.admin('POST', `/v1/experiments/${b.key}/start`, {})).status).toBe(200);
  }
  // The snapshot follows configuration changes asynchronously (change feed).
  await until(async () => {
    const res = await fetch(`${base}/v1/sdk/config`, { headers: { authorization: `Bearer ${sdkKey}` } });
    const snap = (await res.json()) as { experiments: { key: string }[] };
    return snap.experiments.length === EXPERIMENTS.length;
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close(1000)));
  await t?.close();
});

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function client(options: Partial<Parameters<typeof createClient>[0]> = {}): StrataClient {
  const c = createClient({ apiUrl: base, sdkKey, flushIntervalMs: 60_000, retryBaseMs: 20, ...options });
  clients.push(c);
  return c;
}

const COUNTRIES = ['DE', 'AT', 'FR', 'US'];
const attributesOf = (i: number) => ({ country: COUNTRIES[i % COUNTRIES.length] });

describe('same assignments as the server', () => {
  it('assigns 10,000 ids locally exactly as /v1/assign/batch does, for every experiment', async () => {
    const c = client({ logExposures: false });
    expect(await c.ready(5000)).toBe(true);
    const ids = Array.from({ length: 10_000 }, (_, i) => `id-${i}`);
    let compared = 0;
    const seen = new Map<string, number>();
    for (let from = 0; from < ids.length; from += 1000) {
      const units = ids.slice(from, from + 1000).map((unitId, j) => ({ unitId, attributes: attributesOf(from + j) }));
      const res = await fetch(`${base}/v1/assign/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ units, logExposures: false }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        results: { unitId: string; assignments: { experiment: string; variant: string; reason: string }[] }[];
      };
      body.results.forEach((r, j) => {
        for (const key of EXPERIMENTS) {
          const server = r.assignments.find((a) => a.experiment === key) ?? null;
          const local = c.getAssignment(key, r.unitId, units[j].attributes);
          expect(local === null ? null : { variant: local.variant, reason: local.reason }, `${key} ${r.unitId}`).toEqual(
            server === null ? null : { variant: server.variant, reason: server.reason },
          );
          if (local) seen.set(`${key}:${local.variant}`, (seen.get(`${key}:${local.variant}`) ?? 0) + 1);
          compared++;
        }
      });
    }
    expect(compared).toBe(30_000);
    // The comparison covered every variant of every experiment, and the forced unit.
    expect([...seen.keys()].sort()).toEqual(
      [
        'checkout-a:blue',
        'checkout-a:control',
        'checkout-a:green',
        'checkout-b:control',
        'checkout-b:treatment',
        'onboarding:control',
        'onboarding:treatment',
      ].sort(),
    );
    expect(c.getAssignment('checkout-a', 'id-7')?.reason).toBe('forced');
  });

  it('answers the same through /v1/assign in remote mode', async () => {
    const local = client({ logExposures: false });
    const remote = client({ mode: 'remote', logExposures: false });
    await local.ready();
    for (let i = 0; i < 200; i++) {
      for (const key of EXPERIMENTS) {
        expect(await remote.getVariantAsync(key, `id-${i}`, attributesOf(i))).toBe(local.getVariant(key, `id-${i}`, attributesOf(i)));
      }
    }
  });
});

/**
 * Forwards to the API. For POST /v1/events it can refuse before forwarding (503 + Retry-After)
 * or forward, let the API store the batch, and then answer 503 anyway — the SDK must retry and
 * the retry must count as duplicates, not twice.
 */
async function faultyProxy(plan: ('refuse' | 'store-then-503' | 'pass')[]): Promise<{ url: string; server: Server; posts: number[] }> {
  const posts: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const isEvents = req.method === 'POST' && req.url === '/v1/events';
        const step = isEvents ? (plan[posts.length] ?? 'pass') : 'pass';
        if (isEvents) posts.push(JSON.parse(Buffer.concat(chunks).toString()).events.length);
        if (step === 'refuse') {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
          return res.end(JSON.stringify({ error: { code: 'unavailable', message: 'injected' } }));
        }
        const headers: Record<string, string> = {};
        for (const h of ['authorization', 'content-type', 'if-none-match']) if (req.headers[h]) headers[h] = String(req.headers[h]);
        const upstream = await fetch(`${base}${req.url}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        const text = await upstream.text();
        if (step === 'store-then-503') {
          expect(upstream.status).toBe(202);
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
          return res.end(JSON.stringify({ error: { code: 'unavailable', message: 'injected after storing' } }));
        }
        const out: Record<string, string> = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' };
        const etag = upstream.headers.get('etag');
        if (etag) out.etag = etag;
        res.writeHead(upstream.status, out);
        res.end(text);
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, posts };
}

describe('exactly-once delivery', () => {
  it('stores every exposure and track once, across 503s before and after the API stored a batch', async () => {
    const proxy = await faultyProxy(['refuse', 'store-then-503', 'pass', 'store-then-503', 'refuse', 'pass']);
    try {
      const c = client({ apiUrl: proxy.url, maxBatchSize: 250 });
      expect(await c.ready(5000)).toBe(true);
      const exposed = new Map<string, string>();
      for (let i = 0; i < 400; i++) {
        const unit = `eo-${i}`;
        for (let k = 0; k < 3; k++) {
          const v = c.getVariant('onboarding', unit);
          if (v !== null) exposed.set(unit, v);
        }
        c.track(unit, 'purchase', i);
      }
      await c.flush();
      await c.close();
      // 400 exposures + 400 tracks = 800 events in batches of 250, two of them sent twice and two refused once.
      expect(proxy.posts.length).toBeGreaterThanOrEqual(8);
      expect(c.stats()).toMatchObject({ queued: 0, sent: 800, dropped: 0, failures: 0, retries: 4 });

      const rows: { type: string; unit_id: string; variant_key: string | null; value: number | null }[] = await t.dataSource.query(
        `SELECT type, unit_id, variant_key, value FROM events WHERE unit_id LIKE 'eo-%'`,
      );
      const exposures = rows.filter((r) => r.type === 'exposure');
      const metrics = rows.filter((r) => r.type === 'metric');
      expect(exposed.size).toBe(400);
      expect(exposures).toHaveLength(400);
      expect(new Set(exposures.map((r) => r.unit_id)).size).toBe(400);
      for (const r of exposures) expect(r.variant_key).toBe(exposed.get(r.unit_id));
      expect(metrics).toHaveLength(400);
      expect(metrics.map((r) => Number(r.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    } finally {
      await new Promise<void>((r) => proxy.server.close(() => r()));
    }
  });

  it('returns null within the timeout and throws nothing when the API is unreachable', async () => {
    const errors: string[] = [];
    const c = client({ apiUrl: 'http://127.0.0.1:9', timeoutMs: 500, onError: (e) => errors.push(e.kind) });
    const t0 = Date.now();
    expect(await c.getVariantAsync('onboarding', 'u1')).toBeNull();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(errors).toContain('network');
  });
});
