import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigSnapshot } from '@strata/contracts';

/** A recorded request to the stub API. */
export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  at: number;
}

export type StubHandler = (req: StubRequest, res: ServerResponse, stub: ApiStub) => void | Promise<void>;

/**
 * A real HTTP server on 127.0.0.1:0 standing in for the Strata API in SDK unit tests: serves a
 * snapshot with an ETag, accepts events (202) and records every request. `onEvents` /
 * `onAssign` override the default answers per test (503s, 429s, hangs…).
 */
export class ApiStub {
  readonly requests: StubRequest[] = [];
  snapshot: ConfigSnapshot;
  onEvents: StubHandler | null = null;
  onAssign: StubHandler | null = null;
  onConfig: StubHandler | null = null;
  private server: Server | null = null;
  url = '';

  constructor(snapshot: ConfigSnapshot) {
    this.snapshot = snapshot;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Event batches posted (in arrival order), including ones the handler refused. */
  eventBatches(): any[][] {
    return this.requests.filter((r) => r.path === '/v1/events').map((r) => r.body.events);
  }

  static json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const r: StubRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0],
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
      at: Date.now(),
    };
    this.requests.push(r);
    if (req.headers.authorization !== 'Bearer sdk-test-key')
      return ApiStub.json(res, 401, { error: { code: 'unauthorized', message: 'bad key' } });
    if (r.path === '/v1/sdk/config') {
      if (this.onConfig) return this.onConfig(r, res, this);
      const etag = `"${this.snapshot.version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag });
        return void res.end();
      }
      return ApiStub.json(res, 200, this.snapshot, { etag });
    }
    if (r.path === '/v1/events') {
      if (this.onEvents) return this.onEvents(r, res, this);
      return ApiStub.json(res, 202, { accepted: r.body.events.length, duplicates: 0, rejected: [] });
    }
    if (r.path === '/v1/assign' && this.onAssign) return this.onAssign(r, res, this);
    ApiStub.json(res, 404, { error: { code: 'not_found', message: r.path } });
  }
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function deadPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Polls `check` until it is true (or fails the test after `ms`). */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
