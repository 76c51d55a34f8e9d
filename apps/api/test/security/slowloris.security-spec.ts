import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';
import { openSlowClients, timedOutBodies } from './helpers/slow-clients';

/*
 * Slow clients (slowloris). Before, the request timeout was 0 and nothing capped connections: a
 * client sending one header line, or one body byte, every half second held its socket forever.
 * Here 500 such connections trickle — half never finish their headers, half trickle the body of a
 * POST /v1/assign, which the Node-level fast route serves — while /v1/assign keeps answering, and
 * the server closes every one of them once its timeout has passed (408 for the request timeout).
 */
const SLOW = 500;
let api: ApiProcess;
let sdkKey: string;

beforeAll(async () => {
  api = await startApiProcess({ STRATA_HEADERS_TIMEOUT_MS: '2000', STRATA_REQUEST_TIMEOUT_MS: '3000', STRATA_KEEPALIVE_TIMEOUT_MS: '1000' });
  expect((await api.request('POST', '/v1/layers', { body: { key: 'slow', name: 'Slow' } })).status).toBe(201);
  const exp = await api.request('POST', '/v1/experiments', {
    body: { key: 'slow-exp', name: 'Slow', layer: 'slow', traffic: 100, variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }] },
  });
  expect(exp.status, exp.text).toBe(201);
  expect((await api.request('POST', '/v1/experiments/slow-exp/start', { body: {} })).status).toBe(200);
  sdkKey = await api.sdkKey('sdk-server');
}, 180_000);

afterAll(async () => api?.close());

it('closes 500 trickling connections after their timeouts while /v1/assign keeps answering', async () => {
  const slow = await openSlowClients(api.port, SLOW, '/v1/assign', sdkKey);
  try {
    // Assignments keep answering meanwhile: 200 requests, 4 at a time.
    let ok = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let n = 0; n < 50; n++) {
          const res = await api.request('POST', '/v1/assign', { key: sdkKey, body: { unitId: `u-${worker}-${n}` } });
          if (res.status === 200 && res.body.assignments.length === 1) ok++;
        }
      }),
    );
    expect(ok).toBe(200);

    // The timeouts are 2 s (headers) and 3 s (request); Node checks them every second. 30 s is
    // ample for that and far below the old behaviour (never).
    expect(await slow.waitClosed(30_000), 'slow connections still open').toBe(0);
    // The body tricklers got the API's 408 before the close.
    expect(timedOutBodies(slow)).toBe(SLOW / 2);
  } finally {
    slow.destroy();
  }
  // And the server still serves.
  expect((await api.request('GET', '/health', { key: null })).status).toBe(200);
}, 120_000);
