import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local endpoint for STRATA_WEBHOOK_URL that keeps every notice it receives. */
export interface WebhookReceiver {
  url: string;
  notices: any[];
  /** The first `n` notices of `type` about experiment `key`, waiting up to 5 s for them. */
  noticeFor(key: string, type: string, n?: number): Promise<any[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notices: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      notices.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    notices,
    async noticeFor(key, type, n = 1) {
      for (let i = 0; i < 200; i++) {
        const got = notices.filter((x) => x.experiment === key && x.type === type);
        if (got.length >= n) return got;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no ${type} webhook for ${key}: ${JSON.stringify(notices.filter((x) => x.experiment === key))}`);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
