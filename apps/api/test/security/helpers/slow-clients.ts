import { connect, type Socket } from 'node:net';

export interface SlowClient {
  socket: Socket;
  /** Trickles header lines (never finishing them) or, with a key, the body of a POST. */
  kind: 'headers' | 'body';
  received: string;
  closed: boolean;
}

export interface SlowClients {
  readonly clients: SlowClient[];
  /** Connections the server has not closed yet. */
  open(): number;
  /** Waits until the server closed them all or `withinMs` passed; returns how many are still open. */
  waitClosed(withinMs: number): Promise<number>;
  /** Stops the trickle and destroys every socket (call it in a finally). */
  destroy(): void;
}

/**
 * Slowloris: `count` connections to 127.0.0.1:`port`, half sending one more header line every
 * 500 ms and never finishing the headers, half sending `path`'s headers (with `key`) and then one
 * body byte of a declared 1,000 every 500 ms. The server must close every one after its timeouts.
 */
export async function openSlowClients(port: number, count: number, path: string, key: string): Promise<SlowClients> {
  const clients: SlowClient[] = [];
  const timer: { trickle?: NodeJS.Timeout } = {};
  const destroy = (): void => {
    clearInterval(timer.trickle);
    for (const s of clients) s.socket.destroy();
  };
  try {
    const opened: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const s: SlowClient = { socket: connect(port, '127.0.0.1'), kind: i % 2 === 0 ? 'headers' : 'body', received: '', closed: false };
      s.socket.on('data', (d: Buffer) => (s.received += d.toString()));
      s.socket.on('close', () => (s.closed = true));
      opened.push(
        new Promise((done, fail) => {
          s.socket.once('connect', () => done());
          s.socket.once('error', fail);
        }),
      );
      s.socket.on('error', () => undefined);
      clients.push(s);
    }
    await Promise.all(opened);
  } catch (error) {
    destroy();
    throw error;
  }
  for (const s of clients) {
    if (s.kind === 'headers') s.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    else s.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
  }
  timer.trickle = setInterval(() => {
    for (const s of clients) if (!s.closed) s.socket.write(s.kind === 'headers' ? 'X-Slow: 1\r\n' : ' ');
  }, 500);
  const open = (): number => clients.filter((s) => !s.closed).length;
  return {
    clients,
    open,
    async waitClosed(withinMs) {
      const deadline = Date.now() + withinMs;
      while (open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      return open();
    },
    destroy,
  };
}

/** The body tricklers that got the API's 408 request_timeout before the close. */
export function timedOutBodies(slow: SlowClients): number {
  return slow.clients.filter((s) => s.kind === 'body' && /^HTTP\/1\.1 408 /.test(s.received) && s.received.includes('"request_timeout"')).length;
}
