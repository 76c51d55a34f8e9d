import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoIfEmpty } from '../../src/cli/demo/seed-demo';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** `npm start -- --demo`: the seeding gives the dashboard a winner, a flat test and a guardrail harm. */
let t: TestApp;
let base: string;
const lines: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ STRATA_ROLLUP_LAG_MS: '0' });
  base = await t.listen();
});
afterAll(async () => {
  await t?.close();
});

describe('demo seeding', () => {
  it('seeds two layers, three running experiments and days of traffic in well under a minute', async () => {
    const started = Date.now();
    expect(await seedDemoIfEmpty({ app: t.app, dataSource: t.dataSource, baseUrl: base, say: (l) => lines.push(l) })).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await t.admin('GET', '/v1/layers')).body.items.map((l: any) => l.key).sort()).toEqual(['checkout', 'onboarding']);
    const experiments = (await t.admin('GET', '/v1/experiments')).body.items;
    expect(experiments.map((e: any) => [e.key, e.status]).sort()).toEqual([
      ['checkout-express-pay', 'running'],
      ['checkout-one-click', 'running'],
      ['onboarding-welcome-copy', 'running'],
    ]);
    const days: { days: number }[] = await t.dataSource.query(`SELECT extract(epoch FROM max(ts) - min(ts)) / 86400 AS days FROM events`);
    expect(Number(days[0].days)).toBeGreaterThan(5);
    // The seeding key is revoked once done; no stray admin key stays active.
    const keys = (await t.admin('GET', '/v1/api-keys?limit=100')).body.items;
    expect(keys.find((k: any) => k.name === 'demo seeding').revokedAt).not.toBeNull();
  });

  it('shows a winner, a flat experiment and a guardrail harm in the results', async () => {
    const results = async (key: string) => (await t.admin('GET', `/v1/experiments/${key}/results`)).body;
    const primaryLift = (r: any) => r.metrics.find((m: any) => m.role === 'primary').variants.find((v: any) => !v.isControl).relative.fixed;

    const winner = await results('checkout-one-click');
    expect(primaryLift(winner).significant).toBe(true);
    expect(primaryLift(winner).ci[0]).toBeGreaterThan(0);
    expect(winner.decision.hint).toBe('ship');

    const flat = await results('onboarding-welcome-copy');
    expect(primaryLift(flat).significant).toBe(false);
    expect(flat.guardrails.every((g: any) => g.status !== 'harm')).toBe(true);

    const harm = await results('checkout-express-pay');
    expect(harm.guardrails.find((g: any) => g.metric === 'page-errors').status).toBe('harm');
    expect(harm.decision.hint).toBe('stop_for_harm');
  });

  it('does nothing on a later start (experiments exist)', async () => {
    expect(await seedDemoIfEmpty({ app: t.app, dataSource: t.dataSource, baseUrl: base, say: (l) => lines.push(l) })).toBe(false);
    expect(lines.at(-1)).toMatch(/already exist/);
    expect((await t.admin('GET', '/v1/experiments')).body.items).toHaveLength(3);
  });
});
