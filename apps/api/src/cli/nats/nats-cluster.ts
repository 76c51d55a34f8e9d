import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, closeSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { findFreePort } from '../../database/embedded-postgres';

/**
 * A local three-node JetStream cluster for development, tests and benchmarks: three
 * `nats-server` processes on loopback ports, each with its own store folder, all reading
 * deploy/nats/cluster-node.conf. Never the machine's own server on 4222: every port is free
 * when taken (or given). Each server runs in its own process group, so stopping it stops
 * everything it started; a process exit kills whatever is still running.
 *
 * The CLI: ../nats-cluster.ts (`npm run nats-cluster`).
 */
export const CLUSTER_CONFIG = resolve(__dirname, '../../../../../deploy/nats/cluster-node.conf');
const SIZE = 3;

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Kill the server (SIGKILL by default: a crash) and wait for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same ports and store. */
  start(): Promise<void>;
}

export interface NatsCluster {
  readonly urls: string[];
  readonly nodes: NatsNode[];
  /** `nats://127.0.0.1:p1,nats://127.0.0.1:p2,…`, the form STRATA_EVENT_LOG takes. */
  readonly connectString: string;
  /** Resolves once a JetStream meta leader answers API requests. */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Store folders and logs go under this folder (node-1/, node-1.log, …). */
  dir: string;
  /** Client ports of the three nodes (their cluster ports are free ones); free ports when absent. */
  ports?: number[];
  binary?: string;
}

/** The nats-server binary: NATS_SERVER_BIN, else the first on PATH, else Debian's /usr/sbin/nats-server; null when none. */
export function findNatsServer(): string | null {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nats-server')),
    '/usr/sbin/nats-server',
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return null;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kill a server's whole process group. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (a test runner exiting, an uncaught error): no server outlives its owner.
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
  // A signal's default action skips 'exit' handlers: kill the servers, then die of the same signal.
  // A program that handles the signal itself (the CLI, the bench) stops them its own way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      for (const child of live) killGroup(child, 'SIGKILL');
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const { connect: tcp } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`nats-server on port ${port} exited (${child.exitCode ?? child.signalCode}) during start-up`);
    const ok = await new Promise<boolean>((res) => {
      const socket = tcp({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        res(true);
      });
      socket.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not listen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const binary = options.binary ?? findNatsServer();
  if (!binary) throw new Error('nats-server not found (install Debian package nats-server, or set NATS_SERVER_BIN)');
  installExitHook();
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const ports: number[] = [];
  for (let i = 0; i < SIZE; i++) ports.push(options.ports?.[i] || (await findFreePort()));
  const clusterPorts: number[] = [];
  for (let i = 0; i < SIZE; i++) clusterPorts.push(await findFreePort());
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);

  const nodes = ports.map((port, i): NatsNode & { child: ChildProcess | null } => {
    const name = `strata-nats-${i + 1}`;
    const env = {
      ...process.env,
      STRATA_NATS_NAME: name,
      STRATA_NATS_PORT: String(port),
      STRATA_NATS_CLUSTER_PORT: String(clusterPorts[i]),
      STRATA_NATS_STORE: join(dir, `node-${i + 1}`),
      STRATA_NATS_ROUTE_1: routes[0],
      STRATA_NATS_ROUTE_2: routes[1],
      STRATA_NATS_ROUTE_3: routes[2],
    };
    const node = {
      name,
      port,
      url: `nats://127.0.0.1:${port}`,
      child: null as ChildProcess | null,
      get running(): boolean {
        return node.child !== null;
      },
      async start(): Promise<void> {
        if (node.child) return;
        const log = openSync(join(dir, `node-${i + 1}.log`), 'a');
        // detached: its own process group, so killing the group stops it and nothing else.
        const child = spawn(binary, ['-c', CLUSTER_CONFIG], { env, detached: true, stdio: ['ignore', log, log] });
        closeSync(log);
        live.add(child);
        child.once('exit', () => {
          live.delete(child);
          if (node.child === child) node.child = null;
        });
        node.child = child;
        try {
          await waitForPort(port, child, 15_000);
        } catch (error) {
          await node.stop();
          throw error;
        }
      },
      async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
        const child = node.child;
        if (!child) return;
        const exited = new Promise<void>((res) => {
          if (child.exitCode !== null || child.signalCode !== null) res();
          else child.once('exit', () => res());
        });
        killGroup(child, signal);
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        node.child = null;
      },
    };
    return node;
  });

  const cluster: NatsCluster = {
    urls: nodes.map((n) => n.url),
    nodes,
    connectString: nodes.map((n) => n.url).join(','),
    async waitForJetStream(timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      let last: unknown = null;
      while (Date.now() < deadline) {
        const running = nodes.filter((n) => n.running).map((n) => n.url);
        try {
          const nc = await connect({ servers: running, timeout: 2000, reconnect: false });
          try {
            const jsm = await jetstreamManager(nc, { timeout: 2000 });
            await jsm.getAccountInfo();
            return;
          } finally {
            await nc.close();
          }
        } catch (error) {
          last = error;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw new Error(`JetStream did not become ready within ${timeoutMs} ms: ${String(last)}`);
    },
    async stop(): Promise<void> {
      await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await cluster.waitForJetStream();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
