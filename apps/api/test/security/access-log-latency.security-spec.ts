import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * Latency from the socket. Before, the access log and the latency metric measured from the moment
 * the handler first saw a request, so a request that waited in the socket while the event loop was
 * busy (a long synchronous turn elsewhere) was logged as fast as one that did not wait at all. Now
 * the wait behind a busy loop is counted (loop-clock.ts). The server runs in this process so that
 * the test can block its loop while a request's bytes are already in the socket.
 */
let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await createTestApp();
  port = Number(new URL(await t.listen()).port);
}, 180_000);

afterAll(async () => t?.close());

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the event loop can do nothing else meanwhile, as behind a slow synchronous handler
  }
}

/** Opens a connection and waits until it is established. */
function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes a GET on the socket, then keeps the event loop busy for `blockMs` before it may read the answer. */
async function getWhileBusy(socket: Socket, path: string, blockMs: number): Promise<string> {
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('close', () => resolve(received));
  });
  // The write reaches the kernel at once (libuv tries a synchronous write first); the server can
  // only read it once this turn ends.
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  busyWait(blockMs);
  return answer;
}

/** The latency histogram's count and sum (seconds) for one route, from the metrics endpoint. */
async function observed(route: string): Promise<{ count: number; sum: number }> {
  const text = (await t.admin('GET', '/v1/system/metrics')).text;
  const value = (suffix: string): number => {
    const re = new RegExp(`^strata_http_request_duration_seconds_${suffix}\\{method="GET",route="${route}",status="2xx"\\} (\\S+)$`, 'm');
    return Number(re.exec(text)?.[1] ?? 0);
  };
  return { count: value('count'), sum: value('sum') };
}

it('counts the time a request waited in the socket behind a busy event loop in its latency', async () => {
  const before = await observed('/health');
  const answer = await getWhileBusy(await open(), '/health', 300);
  expect(answer).toMatch(/^HTTP\/1\.1 200/);
  const after = await observed('/health');
  expect(after.count - before.count).toBe(1);
  // The request waited ~300 ms for the loop; the estimate is exact to within one 20 ms tick.
  expect(after.sum - before.sum).toBeGreaterThanOrEqual(0.25);
});

it('adds nothing to a request that did not wait', async () => {
  const before = await observed('/health');
  const answer = await getWhileBusy(await open(), '/health', 0);
  expect(answer).toMatch(/^HTTP\/1\.1 200/);
  const after = await observed('/health');
  expect(after.count - before.count).toBe(1);
  expect(after.sum - before.sum).toBeLessThan(0.2);
});
