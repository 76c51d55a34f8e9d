import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { experiment, layer, snapshot } from '@strata/test-support';
import { ApiStub, deadPort, until } from '../test/api-stub';
import { createClient, type StrataClient, type StrataClientOptions, type StrataError } from './index';

// Delivery against a real HTTP server on 127.0.0.1 (no mocks of the SDK): batching, retries,
// idempotent ids, backoff, queue bounds.
let stub: ApiStub;
let clients: StrataClient[] = [];
let errors: StrataError[] = [];

function client(options: Partial<StrataClientOptions> = {}): StrataClient {
  const c = createClient({
    apiUrl: stub.url,
    sdkKey: 'sdk-test-key',
    flushIntervalMs: 60_000,
    retryBaseMs: 10,
    retryMaxMs: 200,
    onError: (e) => errors.push(e),
    ...options,
  });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  stub = new ApiStub(snapshot([layer('L')], [experiment('exp', 'L')]));
  await stub.start();
  errors = [];
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close(100)));
  clients = [];
  await stub.stop();
});

describe('batching', () => {
  it('sends full batches at once and the remainder on flush', async () => {
    const c = client({ maxBatchSize: 10 });
    for (let i = 0; i < 25; i++) c.track(`u${i}`, 'purchase', i);
    await until(() => stub.eventBatches().length >= 2);
    expect(stub.eventBatches().map((b) => b.length)).toEqual([10, 10]);
    await c.flush();
    expect(stub.eventBatches().map((b) => b.length)).toEqual([10, 10, 5]);
    const values = stub
      .eventBatches()
      .flat()
      .map((e) => e.value);
    expect(values).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(c.stats()).toEqual({ queued: 0, sent: 25, dropped: 0, retries: 0, failures: 0 });
  });

  it('sends a partial batch after flushIntervalMs without an explicit flush', async () => {
    const c = client({ maxBatchSize: 100, flushIntervalMs: 30 });
    c.track('u1', 'signup');
    await until(() => stub.eventBatches().length === 1, 2000);
    expect(stub.eventBatches()[0]).toHaveLength(1);
  });

  it('puts metric events on the wire in the collector format', async () => {
    const c = client({ now: () => Date.parse('2026-01-02T03:04:05.000Z') });
    c.track('u1', 'purchase', 12.5, { plan: 'pro' });
    c.track('u2', 'signup');
    await c.flush();
    const [a, b] = stub.eventBatches()[0];
    expect(a).toEqual({
      id: expect.any(String),
      type: 'metric',
      unitId: 'u1',
      name: 'purchase',
      value: 12.5,
      attributes: { plan: 'pro' },
      timestamp: '2026-01-02T03:04:05.000Z',
    });
    expect(b).not.toHaveProperty('value');
    expect(stub.requests.find((r) => r.path === '/v1/events')!.headers.authorization).toBe('Bearer sdk-test-key');
  });
});

describe('retries', () => {
  it('retries 503s with the same event ids until accepted, honouring Retry-After', async () => {
    let refusals = 2;
    stub.onEvents = (r, res) => {
      if (refusals-- > 0) return ApiStub.json(res, 503, { error: { code: 'unavailable', message: 'busy' } }, { 'retry-after': '0.15' });
      ApiStub.json(res, 202, { accepted: r.body.events.length, duplicates: 0, rejected: [] });
    };
    const c = client();
    c.track('u1', 'a');
    c.track('u2', 'b');
    await c.flush();
    const batches = stub.eventBatches();
    expect(batches).toHaveLength(3);
    const ids = batches.map((b) => b.map((e: { id: string }) => e.id).join(','));
    expect(new Set(ids).size).toBe(1);
    const times = stub.requests.filter((r) => r.path === '/v1/events').map((r) => r.at);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(140);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(140);
    expect(c.stats()).toEqual({ queued: 0, sent: 2, dropped: 0, retries: 2, failures: 0 });
    expect(errors.map((e) => e.status)).toEqual([503, 503]);
  });

  it('retries 429 and network errors, then counts duplicates as sent', async () => {
    let n = 0;
    stub.onEvents = (r, res) => {
      n++;
      if (n === 1) return ApiStub.json(res, 429, { error: { code: 'rate_limited', message: 'slow down' } });
      if (n === 2) return void res.socket?.destroy();
      ApiStub.json(res, 202, { accepted: 0, duplicates: r.body.events.length, rejected: [] });
    };
    const c = client();
    c.track('u1', 'a');
    await c.flush();
    expect(n).toBe(3);
    expect(c.stats()).toMatchObject({ sent: 1, retries: 2, failures: 0 });
    expect(errors.map((e) => e.kind)).toEqual(['http', 'network']);
  });

  it('backs off exponentially between retries', async () => {
    stub.onEvents = (_r, res) => ApiStub.json(res, 500, { error: { code: 'internal_error', message: 'x' } });
    const c = client({ retryBaseMs: 40, retryMaxMs: 10_000, maxRetries: 3 });
    c.track('u1', 'a');
    await c.flush();
    const t = stub.requests.filter((r) => r.path === '/v1/events').map((r) => r.at);
    expect(t).toHaveLength(4);
    const gaps = t.slice(1).map((x, i) => x - t[i]);
    // Equal jitter: attempt k waits within [base·2^k / 2, base·2^k].
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(c.stats()).toEqual({ queued: 0, sent: 0, dropped: 0, retries: 3, failures: 1 });
    expect(errors.at(-1)!.kind).toBe('delivery');
  });

  it('does not retry a 400 and reports it', async () => {
    stub.onEvents = (_r, res) => ApiStub.json(res, 400, { error: { code: 'validation_failed', message: 'bad' } });
    const c = client();
    c.track('u1', 'a');
    c.track('u2', 'a');
    await c.flush();
    expect(stub.eventBatches()).toHaveLength(1);
    expect(c.stats()).toMatchObject({ sent: 0, retries: 0, failures: 2 });
    expect(errors[0]).toMatchObject({ kind: 'http', status: 400 });
  });

  it('counts events the API rejects individually as failures, the rest as sent', async () => {
    stub.onEvents = (r, res) =>
      ApiStub.json(res, 202, {
        accepted: r.body.events.length - 1,
        duplicates: 0,
        rejected: [{ index: 0, code: 'timestamp_out_of_range', message: 'too old' }],
      });
    const c = client();
    c.track('u1', 'a');
    c.track('u2', 'a');
    await c.flush();
    expect(c.stats()).toMatchObject({ sent: 1, failures: 1 });
    expect(errors[0]).toMatchObject({ kind: 'rejected' });
  });
});

describe('queue bounds', () => {
  it('drops the oldest events when the queue is full and counts them', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    stub.onEvents = async (r, res) => {
      await gate;
      ApiStub.json(res, 202, { accepted: r.body.events.length, duplicates: 0, rejected: [] });
    };
    const c = client({ maxQueueSize: 5, maxBatchSize: 2 });
    c.track('first0', 'a');
    c.track('first1', 'a'); // full batch: goes in flight and blocks on the gate
    await until(() => stub.requests.length >= 1);
    for (let i = 0; i < 12; i++) c.track(`u${i}`, 'a');
    expect(c.stats()).toMatchObject({ queued: 7, dropped: 7 });
    release();
    await c.flush();
    const units = stub
      .eventBatches()
      .flat()
      .map((e) => e.unitId);
    expect(units).toEqual(['first0', 'first1', 'u7', 'u8', 'u9', 'u10', 'u11']);
    expect(c.stats()).toEqual({ queued: 0, sent: 7, dropped: 7, retries: 0, failures: 0 });
    expect(errors[0].kind).toBe('delivery');
  });
});

describe('unreachable API', () => {
  it('keeps at most maxQueueSize events and gives up after maxRetries without throwing', async () => {
    const c = client({ apiUrl: await deadPort(), maxQueueSize: 3, maxRetries: 1, timeoutMs: 200 });
    expect(() => {
      for (let i = 0; i < 10; i++) c.track(`u${i}`, 'a');
    }).not.toThrow();
    expect(c.stats()).toMatchObject({ queued: 3, dropped: 7 });
    await c.flush();
    expect(c.stats()).toMatchObject({ queued: 0, sent: 0, failures: 3, retries: 1 });
  });

  it('flush(timeout) and close(timeout) return on time while the API hangs', async () => {
    stub.onEvents = () => undefined; // never answers
    const c = client({ timeoutMs: 10_000 });
    c.track('u1', 'a');
    const t0 = Date.now();
    await c.flush(100);
    await c.close(100);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(c.stats().queued).toBe(1);
  });
});
