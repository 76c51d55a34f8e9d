import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/database/embedded-postgres';
import { AnalysisEngineService } from '../../src/modules/analysis/analysis-engine.service';
import { hashedVariant, runningExperiment, type FixtureExperiment } from '../helpers/event-fixtures';
import { natsServerAvailable, startTestNatsCluster } from '../helpers/nats';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The collector with STRATA_EVENT_LOG on a three-node JetStream cluster started here (loopback,
 * free ports): an api process publishes, a separate writer process (role writer) commits; the
 * same validation, rejections and dedup as the direct path; 503 when the log is unreachable.
 */
const available = natsServerAvailable();
const suite = available ? describe : describe.skip;

suite('events through the log (NATS JetStream)', () => {
  let cluster: Awaited<ReturnType<typeof startTestNatsCluster>>;
  let api: TestApp;
  let writer: TestApp | null = null;
  let startWriter: () => Promise<TestApp>;
  let sdkKey: string;
  let exp: FixtureExperiment;

  beforeAll(async () => {
    cluster = await startTestNatsCluster();
    const log = { STRATA_EVENT_LOG: cluster.connectString, STRATA_EVENT_LOG_STREAM: 'T_EVENTS', STRATA_EVENT_LOG_ACK_WAIT_SECONDS: '5' };
    api = await createTestApp({ ...log, STRATA_ROLE: 'api', STRATA_ROLLUP_LAG_MS: '0' });
    startWriter = () => createTestApp({ ...log, STRATA_ROLE: 'writer' }, { databaseUrl: api.databaseUrl });
    sdkKey = (await api.admin('POST', '/v1/api-keys', { name: 'log', type: 'sdk-server' })).body.secret;
    exp = await runningExperiment(api, 'log-exp');
  }, 180_000);

  afterAll(async () => {
    await writer?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await cluster?.stop();
  });

  const send = (events: unknown[]) => api.request('POST', '/v1/events', { body: { events }, key: sdkKey });
  const storedCount = async (ids: string[]): Promise<number> =>
    Number((await api.dataSource.query('SELECT count(*) n FROM events WHERE id = ANY($1::uuid[])', [ids]))[0].n);
  const writerProcess = async (): Promise<TestApp> => (writer ??= await startWriter());
  const waitStored = async (ids: string[], n = ids.length): Promise<number> => {
    const deadline = Date.now() + 20_000;
    let c = 0;
    while ((c = await storedCount(ids)) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return c;
  };

  it('keeps the analysis watermark behind events that are still in the log', async () => {
    // No writer yet: the events wait in the log. The watermark moves on meanwhile (lag 0 here)…
    const unit = 'lu-wm';
    const ids = [randomUUID(), randomUUID()];
    const res = await send([
      { id: ids[0], type: 'exposure', unitId: unit, experiment: exp.key, variant: hashedVariant(exp, unit) },
      { id: ids[1], type: 'metric', unitId: unit, name: 'purchase', value: 3 },
    ]);
    expect(res.status).toBe(202);
    const engine = api.app.get(AnalysisEngineService);
    const before = (await engine.tick()).dataThrough as Date;
    expect(before.getTime()).toBeGreaterThan(Date.now() - 5000);
    expect(await storedCount(ids)).toBe(0);
    // …and the writer, started later, stamps the rows after it (its transaction's start), so the next step still reads them.
    await writerProcess();
    expect(await waitStored(ids)).toBe(2);
    const rows: { received_at: Date }[] = await api.dataSource.query('SELECT received_at FROM events WHERE id = ANY($1::uuid[])', [ids]);
    for (const r of rows) expect(r.received_at.getTime()).toBeGreaterThan(before.getTime());
    const after = (await engine.tick()).dataThrough as Date;
    expect(after.getTime()).toBeGreaterThanOrEqual(Math.max(...rows.map((r) => r.received_at.getTime())));
  });

  it('answers 202 once the log holds the events, and the writer process stores them', async () => {
    await writerProcess();
    const ids = [randomUUID(), randomUUID()];
    const res = await send([
      { id: ids[0], type: 'exposure', unitId: 'lu-1', experiment: exp.key, variant: hashedVariant(exp, 'lu-1') },
      { id: ids[1], type: 'metric', unitId: 'lu-1', name: 'purchase', value: 9.5, attributes: { plan: 'pro' } },
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    expect(await waitStored(ids)).toBe(2);
    const [metric] = await api.dataSource.query('SELECT * FROM events WHERE id = $1', [ids[1]]);
    expect(metric).toMatchObject({ name: 'purchase', value: 9.5, attributes: { plan: 'pro' }, unit_id: 'lu-1' });
    expect(metric.api_key_id).toMatch(/^[0-9a-f-]{36}$/);
    const [first] = await api.dataSource.query('SELECT variant_key FROM first_exposures WHERE experiment_key = $1 AND unit_id = $2', [
      exp.key,
      'lu-1',
    ]);
    expect(first.variant_key).toBe(hashedVariant(exp, 'lu-1'));
  });

  it('rejects invalid events one by one, as the direct path does, and stores the rest', async () => {
    const good = randomUUID();
    const res = await send([
      { id: good, type: 'metric', unitId: 'lu-2', name: 'ok' },
      { type: 'exposure', unitId: 'lu-2', experiment: 'nope', variant: 'control' },
      {
        type: 'exposure',
        unitId: 'lu-2',
        experiment: exp.key,
        variant: hashedVariant(exp, 'lu-2') === 'control' ? 'treatment' : 'control',
      },
      { type: 'metric', unitId: '' },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'unknown_experiment'],
      [2, 'variant_mismatch'],
      [3, 'invalid_event'],
    ]);
    expect(await waitStored([good])).toBe(1);
  });

  it('stores a re-sent batch once: a repeat within the request and a whole re-send count as duplicates', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const events = ids.map((id, i) => ({ id, type: 'metric', unitId: `lu-3-${i}`, name: 'resend' }));
    const first = await send([...events, events[0]]);
    expect(first.body).toEqual({ accepted: 20, duplicates: 1, rejected: [] });
    // The same request again (a client retry after a lost answer): the stream drops the batch by its message id.
    const again = await send(events);
    expect(again.body).toEqual({ accepted: 20 - 20, duplicates: 20, rejected: [] });
    // An overlapping batch is another message: the stream keeps it, the writer's id ledger leaves the repeats out.
    const extra = randomUUID();
    const overlap = await send([...events.slice(0, 5), { id: extra, type: 'metric', unitId: 'lu-3-x', name: 'resend' }]);
    expect(overlap.status).toBe(202);
    expect(await waitStored([...ids, extra])).toBe(21);
    await new Promise((r) => setTimeout(r, 500));
    expect(await storedCount([...ids, extra])).toBe(21);
  });

  it('shows the backlog and the writer in /health and the stats, and the writer process serves nothing else', async () => {
    const w = await writerProcess();
    const health = await w.request('GET', '/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      db: 'up',
      role: 'writer',
      eventLog: { status: 'up', stream: 'T_EVENTS', replicas: 3 },
    });
    expect(health.body.eventLog.backlog).toMatchObject({ pending: expect.any(Number), ackPending: expect.any(Number) });
    expect(health.body.eventLog.writer.events).toBeGreaterThanOrEqual(24);
    expect(health.body.eventLog.writer.commitLagMs.p99).toBeGreaterThanOrEqual(0);
    const apiHealth = await api.request('GET', '/health', { key: null });
    expect(apiHealth.body).toMatchObject({ status: 'ok', role: 'api', eventLog: { status: 'up', writer: null } });
    expect(apiHealth.body.eventLog.published.events).toBeGreaterThanOrEqual(24);
    const stats = await api.request('GET', '/v1/events/stats');
    expect(stats.body.log).toMatchObject({ status: 'up', stream: 'T_EVENTS' });
    // Prometheus gauges of the log in the writer process (the admin-key route on its own port).
    const metrics = await w.request('GET', '/v1/system/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^strata_event_log_written_events_total (\d+)/m);
    expect(Number(/^strata_event_log_written_events_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(24);
    expect(metrics.text).toMatch(/^strata_event_log_ack_pending_batches \d+/m);
    // Not the api role: only health, metrics and stats.
    const refused = await w.request('POST', '/v1/events', { body: { events: [] }, key: sdkKey });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('route_not_found');
  });
});

suite('events through an unreachable log', () => {
  let api: TestApp;
  let sdkKey: string;

  beforeAll(async () => {
    // A free port nobody listens on: the log is down from the start.
    const port = await findFreePort();
    api = await createTestApp({ STRATA_EVENT_LOG: `nats://127.0.0.1:${port}`, STRATA_ROLE: 'api' });
    sdkKey = (await api.admin('POST', '/v1/api-keys', { name: 'down', type: 'sdk-server' })).body.secret;
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  it('answers 503 with Retry-After and stores nothing, and /health says the log is down', async () => {
    const id = randomUUID();
    const res = await api.request('POST', '/v1/events', {
      body: { events: [{ id, type: 'metric', unitId: 'x', name: 'n' }] },
      key: sdkKey,
    });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body.error.code).toBe('unavailable');
    expect(res.body.error.details[0].code).toBe('log_unavailable');
    expect(Number((await api.dataSource.query('SELECT count(*) n FROM events'))[0].n)).toBe(0);
    const health = await api.request('GET', '/health', { key: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', db: 'up', eventLog: { status: 'down' } });
  });
});
