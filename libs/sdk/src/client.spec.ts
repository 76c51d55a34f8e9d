import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileSnapshot, evaluateExperiment } from '@strata/bucketing';
import { experiment, layer, snapshot } from '@strata/test-support';
import { ApiStub, deadPort, until } from '../test/api-stub';
import { createClient, type StrataClient, type StrataClientOptions, type StrataError } from './index';

const SNAPSHOT = snapshot(
  [layer('L')],
  [
    experiment('exp', 'L', { forcedVariants: [{ unitId: 'forced-unit', variant: 'treatment', expiresAt: null }] }),
    experiment('shipped-exp', 'L', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }),
  ],
);
let stub: ApiStub;
let clients: StrataClient[] = [];
let errors: StrataError[] = [];

function client(options: Partial<StrataClientOptions> = {}): StrataClient {
  const c = createClient({
    apiUrl: stub.url,
    sdkKey: 'sdk-test-key',
    flushIntervalMs: 60_000,
    retryBaseMs: 10,
    onError: (e) => errors.push(e),
    ...options,
  });
  clients.push(c);
  return c;
}
const exposures = (): any[] =>
  stub
    .eventBatches()
    .flat()
    .filter((e) => e.type === 'exposure');

beforeEach(async () => {
  stub = new ApiStub(structuredClone(SNAPSHOT));
  await stub.start();
  errors = [];
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close(100)));
  clients = [];
  await stub.stop();
});

describe('local mode', () => {
  it('returns null before the first snapshot and the server-side variant after ready()', async () => {
    const c = client();
    expect(c.getVariant('exp', 'u1')).toBeNull();
    expect(await c.ready()).toBe(true);
    const reference = compileSnapshot(SNAPSHOT);
    for (let i = 0; i < 200; i++) expect(c.getVariant('exp', `u${i}`)).toBe(evaluateExperiment(reference, 'exp', `u${i}`)!.variant);
    expect(c.getVariant('unknown', 'u1')).toBeNull();
  });

  it('logs one exposure per (experiment, unit), however often the variant is read', async () => {
    const c = client();
    await c.ready();
    for (let i = 0; i < 50; i++) {
      c.getVariant('exp', 'u1');
      c.getVariant('exp', 'u2', { country: 'DE' });
    }
    expect(await c.getVariantAsync('exp', 'u1')).not.toBeNull();
    await c.flush();
    const sent = exposures();
    expect(sent.map((e) => e.unitId)).toEqual(['u1', 'u2']);
    expect(sent[0]).toEqual({
      id: expect.any(String),
      type: 'exposure',
      unitId: 'u1',
      experiment: 'exp',
      variant: c.getVariant('exp', 'u1'),
      timestamp: expect.any(String),
    });
    expect(sent[1].attributes).toEqual({ country: 'DE' });
  });

  it('logs no exposure for forced or shipped assignments', async () => {
    const c = client();
    await c.ready();
    expect(c.getVariant('exp', 'forced-unit')).toBe('treatment');
    expect(c.getVariant('shipped-exp', 'u1')).toBe('treatment');
    c.track('u1', 'x');
    await c.flush();
    expect(exposures()).toEqual([]);
    expect(stub.eventBatches().flat()).toHaveLength(1);
  });

  it('logs nothing when logExposures is false', async () => {
    const c = client({ logExposures: false });
    await c.ready();
    c.getVariant('exp', 'u1');
    await c.flush();
    expect(stub.eventBatches()).toEqual([]);
  });

  it('polls with If-None-Match and picks up a changed snapshot', async () => {
    const c = client({ pollIntervalMs: 40 });
    const notified: number[] = [];
    c.subscribe(() => notified.push(1));
    await c.ready();
    await until(() => stub.requests.filter((r) => r.path === '/v1/sdk/config').length >= 3);
    const configs = stub.requests.filter((r) => r.path === '/v1/sdk/config');
    expect(configs[0].headers['if-none-match']).toBeUndefined();
    expect(configs[1].headers['if-none-match']).toBe('"test"');
    expect(notified).toHaveLength(1); // 304s change nothing
    stub.snapshot = { ...SNAPSHOT, version: 'v2', experiments: [experiment('exp', 'L', { variants: [{ key: 'only', weight: 1 }] })] };
    await until(() => c.getVariant('exp', 'u1') === 'only', 2000);
    expect(notified).toHaveLength(2);
    expect(c.getVariant('shipped-exp', 'u1')).toBeNull();
  });

  it('keeps the last snapshot when a refresh fails', async () => {
    const c = client({ pollIntervalMs: 30 });
    await c.ready();
    const before = c.getVariant('exp', 'u1');
    stub.onConfig = (_r, res) => ApiStub.json(res, 500, { error: { code: 'internal_error', message: 'x' } });
    await until(() => errors.some((e) => e.status === 500));
    expect(c.getVariant('exp', 'u1')).toBe(before);
  });

  it('retries the first load after a failure instead of waiting a poll interval', async () => {
    let failures = 1;
    stub.onConfig = (_r, res, s) => {
      if (failures-- > 0) return ApiStub.json(res, 503, {});
      stub.onConfig = null;
      return ApiStub.json(res, 200, s.snapshot, { etag: '"x"' });
    };
    const c = client({ pollIntervalMs: 60_000, retryBaseMs: 20 });
    expect(await c.ready(2000)).toBe(true);
  });
});

describe('failure modes', () => {
  it('answers null within timeoutMs when the API is unreachable, reporting instead of throwing', async () => {
    const c = client({ apiUrl: await deadPort(), timeoutMs: 300 });
    const t0 = Date.now();
    expect(c.getVariant('exp', 'u1')).toBeNull();
    expect(await c.getVariantAsync('exp', 'u1')).toBeNull();
    expect(Date.now() - t0).toBeLessThan(800);
    expect(await c.ready(50)).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0].kind).toBe('network');
  });

  it('answers null within timeoutMs when the API accepts connections but never answers', async () => {
    stub.onConfig = () => undefined;
    const c = client({ timeoutMs: 250 });
    const t0 = Date.now();
    expect(await c.getVariantAsync('exp', 'u1')).toBeNull();
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(800);
  });

  it('reports a 401 and answers null', async () => {
    const c = client({ sdkKey: 'wrong', timeoutMs: 300 });
    expect(await c.getVariantAsync('exp', 'u1')).toBeNull();
    expect(errors.some((e) => e.kind === 'http' && e.status === 401)).toBe(true);
  });

  it('survives an onError handler that throws', async () => {
    const c = client({
      apiUrl: await deadPort(),
      timeoutMs: 200,
      onError: () => {
        throw new Error('app bug');
      },
    });
    expect(await c.getVariantAsync('exp', 'u1')).toBeNull();
    c.track('u1', 'x');
    await c.flush(300);
  });

  it('answers null for inputs that would break evaluation', async () => {
    const c = client();
    await c.ready();
    expect(c.getVariant('exp', undefined as any)).toBeNull();
    expect(c.getVariant(null as any, 'u1')).toBeNull();
  });
});

describe('remote mode', () => {
  beforeEach(() => {
    const compiled = compileSnapshot(SNAPSHOT);
    stub.onAssign = (r, res) => {
      const assignments = ['exp', 'shipped-exp']
        .map((k) => evaluateExperiment(compiled, k, r.body.unitId, r.body.attributes))
        .filter((a) => a !== null);
      ApiStub.json(res, 200, { assignments });
    };
  });

  it('asks /v1/assign once per unit and serves later reads from the cache', async () => {
    const c = client({ mode: 'remote' });
    const expected = evaluateExperiment(compileSnapshot(SNAPSHOT), 'exp', 'u1')!.variant;
    const [a, b] = await Promise.all([c.getVariantAsync('exp', 'u1'), c.getVariantAsync('exp', 'u1')]);
    expect([a, b]).toEqual([expected, expected]);
    expect(c.getVariant('exp', 'u1')).toBe(expected);
    expect(await c.getVariantAsync('shipped-exp', 'u1')).toBe('treatment');
    const assigns = stub.requests.filter((r) => r.path === '/v1/assign');
    expect(assigns).toHaveLength(1);
    expect(assigns[0].body).toEqual({ unitId: 'u1', attributes: {}, logExposures: false });
    await c.flush();
    expect(exposures().map((e) => [e.experiment, e.unitId])).toEqual([['exp', 'u1']]);
  });

  it('returns null synchronously on a cache miss and fills the cache in the background', async () => {
    const c = client({ mode: 'remote' });
    const changed = new Promise<void>((r) => c.subscribe(r));
    expect(c.getVariant('exp', 'u9')).toBeNull();
    await changed;
    expect(c.getVariant('exp', 'u9')).not.toBeNull();
  });

  it('asks again after remoteCacheTtlMs', async () => {
    const c = client({ mode: 'remote', remoteCacheTtlMs: 30 });
    await c.getVariantAsync('exp', 'u1');
    await new Promise((r) => setTimeout(r, 50));
    await c.getVariantAsync('exp', 'u1');
    expect(stub.requests.filter((r) => r.path === '/v1/assign')).toHaveLength(2);
  });

  it('answers null within timeoutMs when /v1/assign hangs', async () => {
    stub.onAssign = () => undefined;
    const c = client({ mode: 'remote', timeoutMs: 200 });
    const t0 = Date.now();
    expect(await c.getVariantAsync('exp', 'u1')).toBeNull();
    expect(Date.now() - t0).toBeLessThan(700);
  });
});

describe('page hide (browsers)', () => {
  it('sends the queue with keepalive requests when the page is hidden', async () => {
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    const g = globalThis as any;
    const saved = { document: g.document, addEventListener: g.addEventListener, removeEventListener: g.removeEventListener };
    g.document = doc;
    g.addEventListener = win.addEventListener.bind(win);
    g.removeEventListener = win.removeEventListener.bind(win);
    const keepalive: boolean[] = [];
    try {
      const c = client({
        fetch: (url, init) => {
          if (String(url).endsWith('/v1/events')) keepalive.push(init?.keepalive === true);
          return fetch(url, init);
        },
      });
      c.track('u1', 'x');
      c.track('u2', 'x');
      doc.visibilityState = 'hidden';
      doc.dispatchEvent(new Event('visibilitychange'));
      await until(() => stub.eventBatches().length === 1);
      expect(keepalive).toEqual([true]);
      c.track('u3', 'x');
      win.dispatchEvent(new Event('pagehide'));
      await until(() => stub.eventBatches().length === 2);
      expect(
        stub
          .eventBatches()
          .flat()
          .map((e) => e.unitId),
      ).toEqual(['u1', 'u2', 'u3']);
      await c.close();
    } finally {
      Object.assign(g, saved);
      if (saved.document === undefined) delete g.document;
      if (saved.addEventListener === undefined) delete g.addEventListener;
      if (saved.removeEventListener === undefined) delete g.removeEventListener;
    }
  });
});

describe('close', () => {
  it('flushes queued events and stops polling', async () => {
    const c = client({ pollIntervalMs: 20 });
    await c.ready();
    c.track('u1', 'x');
    await c.close();
    expect(stub.eventBatches().flat()).toHaveLength(1);
    const polls = stub.requests.filter((r) => r.path === '/v1/sdk/config').length;
    await new Promise((r) => setTimeout(r, 80));
    expect(stub.requests.filter((r) => r.path === '/v1/sdk/config').length).toBe(polls);
    c.track('u2', 'x');
    expect(c.stats().dropped).toBe(1);
  });
});
