import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres';
import { natsServerAvailable, startTestNatsCluster } from '../helpers/nats';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Acceptance of the event log (issue #20), on a three-node JetStream cluster and a PostgreSQL of
 * this file's own (so stopping it disturbs no other test file): 200,000 events from 20 clients,
 * 10 % of them re-sent, while the stream's leader node is killed and restarted, PostgreSQL is
 * stopped for 10 s and restarted, and one of two writer processes is killed (SIGKILL) and
 * restarted. Then: every event that got a 202 is stored exactly once; nothing is stored that was
 * not sent; ingestion kept answering 202 while PostgreSQL was down; only 202 and 503 answers.
 *
 * "No 202 for an event the log did not hold": the writers store only what they read from the
 * log, so a 202'd event missing from PostgreSQL after the drain would be one the log lost (for
 * instance acknowledged by the killed leader alone); the exactly-once check covers it.
 */
const ROOT = resolve(__dirname, '../../../..');
const CLIENTS = 20;
const EVENTS = 200_000;
const BATCH = 100;
const LOAD_SECONDS = 45;

const available = natsServerAvailable();
const suite = available ? describe : describe.skip;

interface Writer {
  name: string;
  port: number;
  child: ChildProcess | null;
  log: string;
}

suite('event log under faults (3-node JetStream, 2 writers, PostgreSQL restarts)', () => {
  let cluster: Awaited<ReturnType<typeof startTestNatsCluster>>;
  let pgDir: string;
  let pg: EmbeddedPostgresHandle;
  let api: TestApp;
  let base: string;
  let sdkKey: string;
  const writers: Writer[] = [];
  let env: Record<string, string>;

  const startWriter = async (w: Writer): Promise<void> => {
    const log = openSync(w.log, 'a');
    // Own process group: SIGKILL to the group is a crash of the whole writer, and nothing is left behind.
    w.child = spawn(process.execPath, [join(ROOT, 'scripts/run-ts.js'), join(ROOT, 'apps/api/src/main.ts'), '--role', 'writer'], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(w.port), HOST: '127.0.0.1' },
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (w.child.exitCode !== null) throw new Error(`writer ${w.name} exited: ${readFileSync(w.log, 'utf8').slice(-2000)}`);
      const ok = await fetch(`http://127.0.0.1:${w.port}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`writer ${w.name} did not start: ${readFileSync(w.log, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const killWriter = async (w: Writer, signal: NodeJS.Signals): Promise<void> => {
    const child = w.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, signal);
    } catch {
      // gone
    }
    const force = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
    }, 20_000);
    await exited;
    clearTimeout(force);
    w.child = null;
  };
  const writerHealth = async (
    w: Writer,
  ): Promise<{ eventLog: { writer: { events: number; retries: number } | null; backlog: { messages: number } | null } }> =>
    (await fetch(`http://127.0.0.1:${w.port}/health`)).json() as never;

  beforeAll(async () => {
    cluster = await startTestNatsCluster();
    pgDir = mkdtempSync(join(tmpdir(), 'strata-log-pg-'));
    // PostgreSQL runs as the `postgres` user when we are root: it must reach the folder.
    chmodSync(pgDir, 0o755);
    pg = await startEmbeddedPostgres({ dataDir: pgDir, persistent: true, database: 'strata_log' });
    env = {
      DATABASE_URL: pg.url,
      STRATA_EVENT_LOG: cluster.connectString,
      STRATA_EVENT_LOG_STREAM: 'ACCEPT_EVENTS',
      STRATA_EVENT_LOG_ACK_WAIT_SECONDS: '10',
      LOG_LEVEL: 'warn',
      STRATA_DISABLE_JOBS: 'true',
      STRATA_DASHBOARD_DIR: '/nonexistent',
    };
    api = await createTestApp({ ...env, STRATA_ROLE: 'api', LOG_LEVEL: 'silent' }, { databaseUrl: pg.url });
    sdkKey = (await api.admin('POST', '/v1/api-keys', { name: 'acceptance', type: 'sdk-server' })).body.secret;
    base = await api.listen();
    for (const name of ['a', 'b']) writers.push({ name, port: await findFreePort(), child: null, log: join(pgDir, `writer-${name}.log`) });
    await Promise.all(writers.map((w) => startWriter(w)));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(writers.map((w) => killWriter(w, 'SIGKILL')));
    await api?.close().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    await cluster?.stop();
    rmSync(pgDir, { recursive: true, force: true });
  });

  it('stores every 202-acknowledged event exactly once through node, database and writer failures', async () => {
    const acked = new Set<string>();
    const sent = new Set<string>();
    const statuses = new Map<number, number>();
    const reasons = new Map<string, number>();
    let pgDown: { from: number; to: number } = { from: Infinity, to: Infinity };
    const ackTimes: number[] = [];
    let resent = 0;
    const t0 = Date.now();

    /** Sends until 202; returns when acknowledged (503 → wait Retry-After, as an SDK does). */
    const post = async (events: { id: string }[]): Promise<void> => {
      for (;;) {
        let status = -1;
        try {
          const res = await fetch(`${base}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          status = res.status;
          const body = (await res.json()) as { accepted: number; duplicates: number; error?: { details: { code: string }[] } };
          if (status === 202) {
            expect(body.accepted + body.duplicates).toBe(events.length);
            for (const e of events) acked.add(e.id);
            ackTimes.push(Date.now());
          } else if (status === 503)
            reasons.set(body.error?.details[0]?.code ?? '?', (reasons.get(body.error?.details[0]?.code ?? '?') ?? 0) + 1);
        } catch {
          status = -1;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 202) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };

    const perClient = EVENTS / CLIENTS;
    const batches = perClient / BATCH;
    const client = async (c: number): Promise<void> => {
      let previous: { id: string; type: string; unitId: string; name: string; value: number }[] = [];
      for (let b = 0; b < batches; b++) {
        const events = Array.from({ length: BATCH }, (_, i) => ({
          id: randomUUID(),
          type: 'metric',
          unitId: `c${c}-u${(b * BATCH + i) % 997}`,
          name: 'accept',
          value: i,
        }));
        for (const e of events) sent.add(e.id);
        await post(events);
        // 10 % re-sent: every 10th batch goes again, alternately the same request (a lost answer:
        // the stream's message id drops it) and its events in another order (the ledger drops them).
        if (b % 10 === 9) {
          resent += previous.length;
          await post(b % 20 === 19 ? previous : [...previous].reverse());
        }
        previous = events;
        // Spread the load over LOAD_SECONDS so that every fault happens under it.
        const due = t0 + ((b + 1) / batches) * LOAD_SECONDS * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    };

    const faults = (async () => {
      const at = (s: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - Date.now())));
      // 1. Kill the node leading the stream (SIGKILL), restart it 7 s later.
      await at(5);
      const nc = await connect({ servers: cluster.urls, timeout: 3000 });
      const leader = (await (await jetstreamManager(nc)).streams.info('ACCEPT_EVENTS')).cluster?.leader;
      await nc.close();
      const victim = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0];
      await victim.stop('SIGKILL');
      await at(12);
      await victim.start();
      // 2. PostgreSQL down for 10 s.
      await at(17);
      pgDown = { from: Date.now(), to: Infinity };
      await pg.stop();
      await at(27);
      pg = await startEmbeddedPostgres({ dataDir: pgDir, persistent: true, database: 'strata_log', port: pg.port });
      pgDown.to = Date.now();
      // 3. Kill writer a mid-work (SIGKILL), restart it.
      await at(33);
      expect((await writerHealth(writers[0])).eventLog.writer?.events ?? 0).toBeGreaterThan(0);
      await killWriter(writers[0], 'SIGKILL');
      await at(36);
      await startWriter(writers[0]);
      return victim.name;
    })();

    await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => client(c)), faults]);
    const loadMs = Date.now() - t0;

    // Drain: wait until the writers have committed everything the log holds.
    const deadline = Date.now() + 60_000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = Number((await api.dataSource.query(`SELECT count(*) n FROM events WHERE name = 'accept'`))[0].n);
      const health = await writerHealth(writers[1]);
      if (stored >= acked.size && health.eventLog.backlog?.messages === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const drainMs = Date.now() - t0 - loadMs;

    const rows: { id: string; n: string }[] = await api.dataSource.query(
      `SELECT id::text, count(*) n FROM events WHERE name = 'accept' GROUP BY id`,
    );
    const storedIds = new Set(rows.map((r) => r.id));
    const repeated = rows.filter((r) => Number(r.n) > 1);
    const missing = [...acked].filter((id) => !storedIds.has(id));
    const unsent = [...storedIds].filter((id) => !sent.has(id));
    const ackedWhilePgDown = ackTimes.filter((t) => t > pgDown.from + 500 && t < pgDown.to).length;
    const b = await writerHealth(writers[1]);
    process.stdout.write(
      `event-log acceptance: ${sent.size} events (+${resent} re-sent) in ${(loadMs / 1000).toFixed(1)} s, drained ${(drainMs / 1000).toFixed(1)} s later; ` +
        `answers ${JSON.stringify(Object.fromEntries(statuses))}, 503 reasons ${JSON.stringify(Object.fromEntries(reasons))}; ` +
        `${ackedWhilePgDown} requests answered 202 while PostgreSQL was down; writer b committed ${b.eventLog.writer?.events} events, ${b.eventLog.writer?.retries} retries\n`,
    );

    expect(await faults).toBeTruthy();
    expect(sent.size).toBe(EVENTS);
    expect(resent).toBe(EVENTS / 10);
    // Every event was eventually acknowledged (clients retry 503s), and each is stored exactly once.
    expect(acked.size).toBe(EVENTS);
    expect(missing).toEqual([]);
    expect(repeated).toEqual([]);
    expect(unsent).toEqual([]);
    expect(rows.length).toBe(EVENTS);
    // PostgreSQL's absence did not stop ingestion: a 10 s window carries ~900 of the paced requests.
    expect(ackedWhilePgDown).toBeGreaterThan(200);
    // Only 202 and 503 (log briefly unreachable while its leader moved): no 500, no dropped connection.
    expect([...statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(b.eventLog.writer?.events ?? 0).toBeGreaterThan(0);
    // The ledger's exactness: nothing else in the table either.
    expect(Number((await api.dataSource.query('SELECT count(*) n FROM event_ids'))[0].n)).toBeGreaterThanOrEqual(EVENTS);
  }, 300_000);
});
