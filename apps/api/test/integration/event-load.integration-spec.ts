import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashedVariant, runningExperiment, type FixtureExperiment } from '../helpers/event-fixtures';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let base: string;
let sdkKey: string;
let experiments: FixtureExperiment[];

beforeAll(async () => {
  t = await createTestApp();
  sdkKey = (await t.admin('POST', '/v1/api-keys', { name: 'load', type: 'sdk-server' })).body.secret;
  experiments = [await runningExperiment(t, 'load-a'), await runningExperiment(t, 'load-b')];
  base = await t.listen();
});
afterAll(async () => {
  await t?.close();
});

interface Sent {
  id: string;
  type: 'exposure' | 'metric';
  unitId: string;
  experiment?: string;
  variant?: string;
  name?: string;
  value?: number;
  timestamp: string;
}

it('stores exactly the distinct events from 20 concurrent HTTP clients re-sending 10%, with every first exposure right', async () => {
  const CLIENTS = 20;
  const PER_CLIENT = 5000;
  const BATCH = 250;
  const UNITS = 4000;
  const now = Date.now();
  // Deterministic pseudo-random stream so a failure is reproducible.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const all: Sent[] = [];
  const perClient: Sent[][] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const mine: Sent[] = [];
    for (let i = 0; i < PER_CLIENT; i++) {
      const unitId = `user-${Math.floor(rand() * UNITS)}`;
      const timestamp = new Date(now - Math.floor(rand() * 5 * 86400_000)).toISOString();
      if (rand() < 0.4) {
        const exp = experiments[rand() < 0.5 ? 0 : 1];
        mine.push({ id: randomUUID(), type: 'exposure', unitId, experiment: exp.key, variant: hashedVariant(exp, unitId), timestamp });
      } else {
        mine.push({ id: randomUUID(), type: 'metric', unitId, name: rand() < 0.5 ? 'purchase' : 'click', value: Math.round(rand() * 1000) / 10, timestamp });
      }
    }
    perClient.push(mine);
    all.push(...mine);
  }

  const statuses = new Map<number, number>();
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  const post = async (events: Sent[]): Promise<void> => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sdkKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const body = (await res.json()) as { accepted: number; duplicates: number; rejected: unknown[] };
    if (res.status === 202) {
      accepted += body.accepted;
      duplicates += body.duplicates;
      rejected += body.rejected.length;
    }
  };
  await Promise.all(
    perClient.map(async (mine, c) => {
      for (let i = 0; i < mine.length; i += BATCH) {
        const batch = mine.slice(i, i + BATCH);
        // Every 10th event is sent again later, by another client, as a retry would be.
        await post(batch);
      }
      const resend = mine.filter((_, i) => i % 10 === c % 10);
      for (let i = 0; i < resend.length; i += BATCH) await post(resend.slice(i, i + BATCH));
    }),
  );

  expect([...statuses.keys()]).toEqual([202]);
  expect(accepted).toBe(CLIENTS * PER_CLIENT);
  expect(duplicates).toBe(CLIENTS * PER_CLIENT / 10);
  expect(rejected).toBe(0);

  const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM events');
  expect(stored.length).toBe(all.length);
  expect(new Set(stored.map((r) => r.id))).toEqual(new Set(all.map((e) => e.id)));

  // Expected first exposure per (experiment, unit), computed here from what was sent.
  const expected = new Map<string, { variant: string; ts: string }>();
  for (const e of all) {
    if (e.type !== 'exposure') continue;
    const k = `${e.experiment}|${e.unitId}`;
    const cur = expected.get(k);
    if (!cur || e.timestamp < cur.ts) expected.set(k, { variant: e.variant as string, ts: e.timestamp });
  }
  const firsts: { experiment_key: string; unit_id: string; variant_key: string; first_ts: Date; forced: boolean }[] = await t.dataSource.query(
    'SELECT experiment_key, unit_id, variant_key, first_ts, forced FROM first_exposures',
  );
  expect(firsts.length).toBe(expected.size);
  for (const f of firsts) {
    const want = expected.get(`${f.experiment_key}|${f.unit_id}`);
    expect(want, `${f.experiment_key}|${f.unit_id}`).toBeDefined();
    expect({ variant: f.variant_key, ts: new Date(f.first_ts).toISOString() }).toEqual(want);
    expect(f.forced).toBe(false);
  }
}, 300_000);
