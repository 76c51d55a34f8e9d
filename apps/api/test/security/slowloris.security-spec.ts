import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from './helpers/api-process';

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

interface Slow {
  socket: Socket;
  received: string;
  closed: boolean;
}

it('closes 500 trickling connections after their timeouts while /v1/assign keeps answering', async () => {
  const slow: Slow[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < SLOW; i++) {
    const s: Slow = { socket: connect(api.port, '127.0.0.1'), received: '', closed: false };
    s.socket.on('data', (d: Buffer) => (s.received += d.toString()));
    s.socket.on('error', () => undefined);
    s.socket.on('close', () => (s.closed = true));
    opened.push(new Promise((done) => s.socket.once('connect', () => done())));
    slow.push(s);
  }
  await Promise.all(opened);
  slow.forEach((s, i) => {
    if (i % 2 === 0) s.socket.write('POST /v1/assign HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    else s.socket.write(`POST /v1/assign HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${sdkKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
  });
  // Every 500 ms, one more header line or one more body byte on each connection that is still open.
  const trickle = setInterval(() => {
    slow.forEach((s, i) => {
      if (!s.closed) s.socket.write(i % 2 === 0 ? 'X-Slow: 1\r\n' : ' ');
    });
  }, 500);
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
    const deadline = Date.now() + 30_000;
    while (slow.some((s) => !s.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(slow.filter((s) => !s.closed).length, 'slow connections still open').toBe(0);
    // The body tricklers got the API's 408 before the close.
    const bodyTricklers = slow.filter((_, i) => i % 2 === 1);
    expect(bodyTricklers.filter((s) => /^HTTP\/1\.1 408 /.test(s.received) && s.received.includes('"request_timeout"')).length).toBe(SLOW / 2);
  } finally {
    clearInterval(trickle);
    for (const s of slow) s.socket.destroy();
  }
  // And the server still serves.
  expect((await api.request('GET', '/health', { key: null })).status).toBe(200);
}, 120_000);
