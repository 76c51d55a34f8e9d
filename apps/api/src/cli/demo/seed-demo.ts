import type { INestApplication } from '@nestjs/common';
import type { CreateExperimentRequest, CreateMetricRequest } from '@strata/contracts';
import type { DataSource } from 'typeorm';
import { SYSTEM } from '../../common/guards/principal';
import { ApiKeyService } from '../../modules/api-key/api-key.service';
import { AdminApi } from '../simulator/admin-api';
import { simulate, type SimMetric } from '../simulator/simulator';

/**
 * `npm start -- --demo` / `npm run demo`: on first start (no experiments yet) seed a demo
 * workspace through the public HTTP API, the way a user would: two layers, five metrics, three
 * running experiments — a clear winner, a flat one and one whose guardrail shows harm — and six
 * simulated days of exposures and events sent by the SDK (the traffic simulator's core).
 * Takes well under a minute; the dashboard then has real results to show.
 */

const DAYS = 6;

const METRICS: CreateMetricRequest[] = [
  {
    key: 'purchase',
    name: 'Purchase',
    type: 'conversion',
    eventName: 'purchase',
    description: 'Share of units that bought at least once.',
  },
  { key: 'revenue', name: 'Revenue per user', type: 'mean', eventName: 'order_value', description: 'Order value per exposed unit.' },
  { key: 'signup', name: 'Sign-up', type: 'conversion', eventName: 'signup' },
  { key: 'sessions', name: 'Sessions per user', type: 'count', eventName: 'session_start' },
  {
    key: 'page-errors',
    name: 'Page errors',
    type: 'count',
    eventName: 'page_error',
    direction: 'decrease',
    harmThreshold: 0.05,
    description: 'Client-side errors per unit (guardrail).',
  },
];

interface DemoExperiment {
  body: CreateExperimentRequest;
  units: number;
  metrics: SimMetric[];
}

const TWO_ARMS = [
  { key: 'control', name: 'Control', weight: 0.5 },
  { key: 'treatment', name: 'Treatment', weight: 0.5 },
];

const EXPERIMENTS: DemoExperiment[] = [
  {
    body: {
      key: 'checkout-one-click',
      name: 'One-click checkout',
      hypothesis: 'Removing the address step lets more visitors finish a purchase.',
      layer: 'checkout',
      traffic: 50,
      variants: TWO_ARMS,
      primaryMetric: 'purchase',
      secondaryMetrics: ['revenue'],
      guardrailMetrics: ['page-errors'],
      autoStop: false,
    },
    units: 40_000,
    metrics: [
      { eventName: 'purchase', type: 'conversion', baseline: 0.1, effect: 0.25 },
      { eventName: 'order_value', type: 'mean', baseline: 12, effect: 0.08 },
      { eventName: 'page_error', type: 'count', baseline: 0.3, effect: 0 },
    ],
  },
  {
    body: {
      key: 'onboarding-welcome-copy',
      name: 'Friendlier welcome copy',
      hypothesis: 'A warmer welcome message increases sign-ups.',
      layer: 'onboarding',
      traffic: 100,
      variants: TWO_ARMS,
      primaryMetric: 'signup',
      secondaryMetrics: ['sessions'],
      autoStop: false,
    },
    units: 10_000,
    metrics: [
      { eventName: 'signup', type: 'conversion', baseline: 0.3, effect: 0 },
      { eventName: 'session_start', type: 'count', baseline: 2, effect: 0 },
    ],
  },
  {
    body: {
      key: 'checkout-express-pay',
      name: 'Express pay button',
      hypothesis: 'An express pay button speeds up checkout.',
      layer: 'checkout',
      traffic: 50,
      variants: TWO_ARMS,
      primaryMetric: 'purchase',
      guardrailMetrics: ['page-errors'],
      autoStop: false,
    },
    units: 24_000,
    metrics: [
      { eventName: 'purchase', type: 'conversion', baseline: 0.1, effect: 0.02 },
      { eventName: 'page_error', type: 'count', baseline: 0.3, effect: 0.5 },
    ],
  },
];

export interface SeedDemoOptions {
  app: INestApplication;
  dataSource: DataSource;
  /** Where the API listens, reachable from this process. */
  baseUrl: string;
  say: (line: string) => void;
}

/** Seeds the demo when no experiment exists yet; returns whether it did. Never throws. */
export async function seedDemoIfEmpty(o: SeedDemoOptions): Promise<boolean> {
  const rows: { n: string }[] = await o.dataSource.query('SELECT count(*) AS n FROM experiments');
  if (Number(rows[0].n) > 0) {
    o.say('Demo: experiments already exist, nothing to seed.');
    return false;
  }
  const keys = o.app.get(ApiKeyService);
  // A dedicated admin key for seeding, revoked afterwards: the bootstrap key may be unknown here.
  const admin = await keys.create(SYSTEM, { name: 'demo seeding', type: 'admin' });
  const started = Date.now();
  try {
    o.say('Demo: seeding two layers, five metrics, three experiments and six days of traffic…');
    const api = new AdminApi(o.baseUrl, admin.secret);
    await api.call('POST', '/v1/layers', {
      key: 'checkout',
      name: 'Checkout',
      description: 'Experiments on the checkout flow share its traffic.',
    });
    await api.call('POST', '/v1/layers', { key: 'onboarding', name: 'Onboarding' });
    for (const m of METRICS) await api.call('POST', '/v1/metrics', m);
    for (const e of EXPERIMENTS) {
      // Six simulated days: a minimum duration of five lets the winner show "Ready to ship" (the default is 7).
      await api.call('POST', '/v1/experiments', { ...e.body, minDurationDays: DAYS - 1 });
      // Backdated to the first simulated day: the collector rejects exposures before the start.
      await api.call('POST', `/v1/experiments/${e.body.key}/start`, { startedAt: new Date(started - DAYS * 86_400_000).toISOString() });
    }
    const sdkKey = (await api.call<{ secret: string }>('POST', '/v1/api-keys', { name: 'demo traffic', type: 'sdk-server' })).secret;
    for (const [i, e] of EXPERIMENTS.entries()) {
      const summary = await simulate({
        apiUrl: o.baseUrl,
        sdkKey,
        experiment: e.body.key,
        variants: (e.body.variants ?? []).map((v) => v.key),
        units: e.units,
        metrics: e.metrics,
        days: DAYS,
        seed: 2024 + i,
        unitPrefix: `demo-${i}`,
        attributes: (n) => ({ country: ['DE', 'US', 'FR', 'GB'][n % 4], platform: n % 3 === 0 ? 'ios' : 'web' }),
      });
      o.say(`  ${e.body.key}: ${summary.exposures} units, ${summary.metricEvents} metric events`);
    }
    o.say(`Demo: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s. Open the dashboard to see the results.`);
    return true;
  } catch (error) {
    o.say(`Demo: seeding failed: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  } finally {
    await keys.revoke(SYSTEM, admin.id).catch(() => undefined);
  }
}
