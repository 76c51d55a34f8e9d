// The log mode of bench/ingest (BENCH_ONLY=log): POST /v1/events with STRATA_EVENT_LOG on a local
// three-node JetStream cluster (R3, file storage, loopback), the API in this process (role api),
// one writer process (role writer) committing into the same embedded PostgreSQL. A 202 here means
// the stream stored the batch on two of three nodes; the writer commits it afterwards.
// Prints events/s over HTTP, the writer's committed rows/s, the backlog left at the end of the
// phase, the time to drain it, and the end-to-end lag from the stream storing a batch (just before
// its 202) to the writer's COMMIT (p50/p99/max over the last 2,048 batches, measured by the writer).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EventLogStatsDto } from '@strata/contracts';
import { startNatsCluster } from '../apps/api/src/cli/nats/nats-cluster';
import { findFreePort } from '../apps/api/src/database/embedded-postgres';
import type { BenchApi } from './_api';

const ROOT = resolve(__dirname, '..');

export interface LogBenchDeps {
  startApi(env: NodeJS.ProcessEnv): Promise<BenchApi>;
  /** Creates the experiment and an SDK key, waits for the catalog; returns the key and salt. */
  prepare(base: string): Promise<{ sdkKey: string; salt: string }>;
  runLoad(
    url: string,
    key: string,
    salt: string,
    batch: number,
    connections: number,
    seconds: number,
  ): Promise<{ requestsPerSecond: number; p50: number; p99: number; non2xx: number; errors: number }>;
}

async function health(port: number, base = `http://127.0.0.1:${port}`): Promise<{ eventLog?: EventLogStatsDto }> {
  return (await fetch(`${base}/health`)).json() as Promise<{ eventLog?: EventLogStatsDto }>;
}

export async function logMode(deps: LogBenchDeps, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-nats-'));
  const cluster = await startNatsCluster({ dir });
  let bench: BenchApi | null = null;
  const procs: { writer: ChildProcess | null } = { writer: null };
  const writerLog = join(dir, 'writer.log');
  try {
    const env = { STRATA_EVENT_LOG: cluster.connectString, STRATA_EVENT_LOG_STREAM: 'BENCH_EVENTS' };
    bench = await deps.startApi({ ...env, STRATA_ROLE: 'api' });
    const port = await findFreePort();
    const apiBase = bench.base;
    const databaseUrl = bench.databaseUrl;
    const startWriter = async (): Promise<void> => {
      const log = openSync(writerLog, 'a');
      const writer = spawn(process.execPath, [join(ROOT, 'scripts/run-ts.js'), join(ROOT, 'apps/api/src/main.ts'), '--role', 'writer'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          DATABASE_URL: databaseUrl,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          STRATA_DISABLE_JOBS: 'true',
          STRATA_DASHBOARD_DIR: '/nonexistent',
        },
        detached: true,
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      procs.writer = writer;
      // Should this bench die, the writer (its own process group) dies with it.
      const killWriter = (): void => {
        if (writer.pid !== undefined && writer.exitCode === null) process.kill(-writer.pid, 'SIGKILL');
      };
      process.once('exit', killWriter);
      // On a signal: exit, so the 'exit' handlers (this one, the cluster's) stop every child.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));
      for (let i = 0; ; i++) {
        if (writer.exitCode !== null) throw new Error(`writer exited: ${readFileSync(writerLog, 'utf8').slice(-2000)}`);
        if (
          await health(port).then(
            (h) => h.eventLog?.writer?.running === true,
            () => false,
          )
        )
          break;
        if (i > 400) throw new Error('writer did not start');
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const count = async (): Promise<number> => Number((await (bench as BenchApi).dataSource.query('SELECT count(*) n FROM events'))[0].n);
    const backlogMessages = async (): Promise<number | undefined> => (await health(0, apiBase)).eventLog?.backlog?.messages;
    const { sdkKey, salt } = await deps.prepare(bench.base);
    console.log(
      `POST /v1/events through the event log (3-node JetStream, R3, file storage), ${seconds} s per phase; API (role api) here, 1 writer process`,
    );
    await deps.runLoad(bench.base, sdkKey, salt, 100, 8, 3); // warm-up
    // 1. Into the log alone, no writer running (PostgreSQL down, or the writers behind): what the log absorbs.
    const alone = await deps.runLoad(bench.base, sdkKey, salt, 100, 32, seconds);
    const held = await backlogMessages();
    console.log(
      `  no writer running, 100-event batches, 32 connections: ${Math.round(alone.requestsPerSecond * 100).toLocaleString('en-US')} events/s acknowledged by the log ` +
        `(p50 ${alone.p50} ms, p99 ${alone.p99} ms, non-2xx ${alone.non2xx}, errors ${alone.errors}); backlog ${held} batches`,
    );
    // 2. Then a writer drains that backlog.
    const beforeDrain = await count();
    await startWriter();
    const drainFrom = Date.now();
    while (((await backlogMessages()) ?? 1) > 0 && Date.now() - drainFrom < 120_000) await new Promise((r) => setTimeout(r, 100));
    const drained = (await count()) - beforeDrain;
    const drainS = (Date.now() - drainFrom) / 1000;
    console.log(
      `  the writer drains it: ${drained.toLocaleString('en-US')} rows in ${drainS.toFixed(1)} s = ${Math.round(drained / drainS).toLocaleString('en-US')} rows/s committed`,
    );
    // 3. Load and writer at once: throughput and the lag from the log to PostgreSQL.
    for (const [batch, connections] of [
      [100, 32],
      [1000, 16],
    ] as const) {
      const before = await count();
      const r = await deps.runLoad(bench.base, sdkKey, salt, batch, connections, seconds);
      const atEnd = await count();
      const backlog = (await health(0, apiBase)).eventLog?.backlog;
      // Drain: until the stream is empty (work queue: acknowledged batches leave it).
      const drainStart = Date.now();
      for (let i = 0; i < 1200; i++) {
        if ((await backlogMessages()) === 0) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const drainSeconds = (Date.now() - drainStart) / 1000;
      const after = await count();
      const w = (await health(port)).eventLog?.writer;
      const lag = w?.commitLagMs;
      console.log(
        `  ${String(batch).padStart(5)}-event batches, ${connections} connections: ${Math.round(r.requestsPerSecond * batch).toLocaleString('en-US')} events/s acknowledged by the log ` +
          `(p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors})`,
      );
      console.log(
        `        writer: ${Math.round((atEnd - before) / seconds).toLocaleString('en-US')} rows/s committed during the load; backlog at its end ${backlog?.messages ?? '?'} batches ` +
          `(oldest ${backlog?.oldestMs ?? '?'} ms), drained in ${drainSeconds.toFixed(1)} s; ${(after - before).toLocaleString('en-US')} rows stored; ` +
          `lag stream→COMMIT p50 ${lag?.p50 ?? '?'} ms, p99 ${lag?.p99 ?? '?'} ms, max ${lag?.max ?? '?'} ms`,
      );
      console.log(`        target HTTP ≥ 50,000 events/s: ${r.requestsPerSecond * batch >= 50_000 ? 'met' : 'MISSED'}`);
    }
  } finally {
    const writer = procs.writer;
    if (writer?.pid !== undefined && writer.exitCode === null) {
      const pid = writer.pid;
      const exited = new Promise((r) => writer.once('exit', r));
      process.kill(-pid, 'SIGTERM');
      const force = setTimeout(() => process.kill(-pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    }
    await bench?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
