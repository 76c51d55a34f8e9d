import { connect, type Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/**
 * POST /v1/events/import over real sockets: an answer given before the whole body was read (a
 * line too long, a refused key) closes the connection, so no socket is left half-read: neither
 * the next request on it nor app.close() waits for a body nobody reads.
 */

let t: TestApp;
let sdkKey: string;

beforeAll(async () => {
  t = await createTestApp();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'server sdk', type: 'sdk-server' })).body.secret;
  await t.listen();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const ONE_LINE_2MIB = Buffer.alloc(2 * 1024 * 1024, 'a');

interface RawExchange {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with 'end' or 'close' when the server ends the connection, 'timeout' after `ms`. */
  serverEnded(ms: number): Promise<'end' | 'close' | 'timeout'>;
}

/** Opens a connection and writes one import request (headers then `body`), keep-alive as HTTP/1.1 defaults to. */
async function rawImport(baseUrl: string, body: Buffer, { key = TEST_ADMIN_KEY, contentLength = body.length } = {}): Promise<RawExchange> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  // The server may reset the connection while this client still writes; the answer is what counts.
  socket.on('error', () => undefined);
  const ended = new Promise<'end' | 'close'>((resolve) => {
    socket.once('end', () => resolve('end'));
    socket.once('close', () => resolve('close'));
  });
  socket.write(
    'POST /v1/events/import HTTP/1.1\r\nHost: strata\r\n' +
      `Authorization: Bearer ${key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${contentLength}\r\n\r\n`,
  );
  socket.write(body);
  return {
    socket,
    received: () => received,
    serverEnded: (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
      return Promise.race([ended, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

/** Status, lower-cased headers and body of the first response in `raw`. */
function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const body = raw.slice(split + 4, split + 4 + Number(headers['content-length']));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('POST /v1/events/import answering before the body is read', () => {
  it('answers an over-long line with a 413 JSON error and closes the connection', async () => {
    const exchange = await rawImport(t.baseUrl as string, ONE_LINE_2MIB);
    expect(await exchange.serverEnded(2000)).not.toBe('timeout');
    const res = parseResponse(exchange.received());
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const error = (JSON.parse(res.body) as { error: { code: string; message: string; requestId: string } }).error;
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain('line 1 is longer than 1048576 characters');
    expect(error.requestId).toBe(res.headers['x-request-id']);
    exchange.socket.destroy();
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });

  it('closes the connection when the key is refused before the streamed body was read', async () => {
    const exchange = await rawImport(t.baseUrl as string, Buffer.from('{}\n'), { key: sdkKey, contentLength: 64 * 1024 * 1024 });
    expect(await exchange.serverEnded(2000)).not.toBe('timeout');
    const res = parseResponse(exchange.received());
    expect(res.status).toBe(403);
    expect(res.headers.connection).toBe('close');
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('forbidden');
    exchange.socket.destroy();
  });

  it('keeps the connection alive after an import that read the whole body', async () => {
    const line = `${JSON.stringify({ type: 'metric', unitId: 'keep-alive', name: 'kept' })}\n`;
    const exchange = await rawImport(t.baseUrl as string, Buffer.from(line));
    await vi.waitFor(() => expect(exchange.received()).toContain('"accepted":1'));
    const first = parseResponse(exchange.received());
    expect(first.status).toBe(200);
    expect(first.headers.connection).toBe('keep-alive');
    exchange.socket.write('GET /health HTTP/1.1\r\nHost: strata\r\n\r\n');
    await vi.waitFor(() => expect(exchange.received().split('HTTP/1.1 200').length).toBe(3));
    exchange.socket.destroy();
  });

  it('logs a client that hangs up mid-import as a warning, not as an unexpected error', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    const warnings = vi.spyOn(Logger.prototype, 'warn');
    const line = `${JSON.stringify({ type: 'metric', unitId: 'hang-up', name: 'hung_up' })}\n`;
    const exchange = await rawImport(t.baseUrl as string, Buffer.from(line.repeat(100)), { contentLength: 100 * 1024 * 1024 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    exchange.socket.destroy();
    await vi.waitFor(() => expect(warnings).toHaveBeenCalledWith(expect.stringContaining('the request body ended early')));
    expect(errors).not.toHaveBeenCalled();
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });
});

describe('shutdown after an import answered early', () => {
  it('closes the app within 5 s once the client has gone', async () => {
    const other = await createTestApp();
    const exchange = await rawImport(await other.listen(), ONE_LINE_2MIB);
    await vi.waitFor(() => expect(exchange.received()).toContain('payload_too_large'));
    exchange.socket.destroy();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      other.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still closing after 5 s'), 5000))),
    ]).finally(() => clearTimeout(timer));
    expect(outcome).toBe('closed');
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
