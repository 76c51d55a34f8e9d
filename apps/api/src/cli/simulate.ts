/**
 * npm run simulate -- --experiment KEY [--units 50000] [--effect 0.05] [--metric METRIC_KEY]
 *                     [--baseline 0.1] [--days 7] [--url http://localhost:3000] [--key ADMIN_KEY] [--seed N]
 *
 * Drives realistic traffic through @strata/sdk against a running API: creates its own SDK key
 * with the admin key, assigns --units units (arrivals spread over the last --days days), logs
 * their exposures and emits metric events with a true relative lift of --effect in every
 * treatment on --metric (default: the experiment's primary metric; its other metrics get no
 * effect), then prints what it sent and the primary metric's lift and CI from the results endpoint.
 */
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import type { MetricDto, MetricType } from '@strata/contracts';
import { AdminApi } from './simulator/admin-api';
import { formatResults, formatSummary } from './simulator/report';
import { simulate, type SimMetric } from './simulator/simulator';

const DEFAULT_BASELINE: Record<MetricType, number> = { conversion: 0.1, count: 1, mean: 20, ratio: 0.3 };

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n`);
  process.exit(1);
}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, got "${value}"`);
  return n;
}

function simMetric(m: MetricDto, effect: number, baseline?: number): SimMetric {
  return {
    eventName: m.eventName,
    type: m.type,
    baseline: baseline ?? DEFAULT_BASELINE[m.type],
    effect,
    denominatorEventName: m.denominatorEventName,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      experiment: { type: 'string' },
      units: { type: 'string' },
      effect: { type: 'string' },
      metric: { type: 'string' },
      baseline: { type: 'string' },
      days: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.experiment) {
    process.stdout.write(
      'usage: npm run simulate -- --experiment KEY [--units 50000] [--effect 0.05] [--metric METRIC_KEY] [--baseline 0.1] [--days 7] [--url URL] [--key ADMIN_KEY] [--seed N]\n',
    );
    process.exit(values.help ? 0 : 2);
  }
  const url = values.url ?? `http://localhost:${process.env.PORT ?? 3000}`;
  const adminKey = values.key ?? process.env.STRATA_ADMIN_KEY;
  if (!adminKey) fail('an admin key is needed: --key or STRATA_ADMIN_KEY (the simulator creates its own SDK key with it)');
  const units = Math.floor(number(values.units, 'units', 50_000));
  const effect = number(values.effect, 'effect', 0.05);
  const days = number(values.days, 'days', 7);
  if (units < 1) fail('--units must be ≥ 1');
  if (!(days > 0 && days <= 7)) fail('--days must be in (0, 7]: the collector rejects events older than 7 days');

  const api = new AdminApi(url, adminKey);
  const exp = await api.experiment(values.experiment);
  if (exp.status !== 'running') fail(`experiment "${exp.key}" is ${exp.status}; start it first (POST /v1/experiments/${exp.key}/start)`);
  const metricKey = values.metric ?? exp.primaryMetric;
  if (!metricKey) fail(`experiment "${exp.key}" has no primary metric: pass --metric`);
  const target = await api.metric(metricKey);
  if (!target) fail(`no metric "${metricKey}" (GET /v1/metrics/${metricKey} → 404)`);
  const baseline = values.baseline === undefined ? undefined : number(values.baseline, 'baseline', 0.1);
  const metrics: SimMetric[] = [simMetric(target, effect, baseline)];
  // The experiment's other metrics get traffic too (no effect), so every table has data.
  for (const key of new Set([exp.primaryMetric, ...exp.secondaryMetrics, ...exp.guardrailMetrics])) {
    if (!key || key === target.key) continue;
    const m = await api.metric(key);
    if (m && !metrics.some((x) => x.eventName === m.eventName)) metrics.push(simMetric(m, 0));
  }

  // Traffic starts at the experiment's start: exposures before it are rejected by the collector.
  const startedAt = exp.startedAt ? Date.parse(exp.startedAt) : Date.now();
  const runningDays = (Date.now() - startedAt) / 86_400_000;
  const span = Math.min(days, runningDays);
  if (span < days) {
    process.stdout.write(
      `"${exp.key}" started ${exp.startedAt}: traffic is spread over the ${formatDays(span)} since (to simulate more days, start it with a backdated "startedAt", up to 7 days)\n`,
    );
  }
  const sdkKey = await api.createSdkKey(`simulator ${new Date().toISOString()}`);
  process.stdout.write(
    `Simulating ${units} units over ${formatDays(span)} on "${exp.key}" (${exp.variants.map((v) => v.key).join(' vs ')}), ${metricKey} (${target.type}) lift ${effect}\n`,
  );
  const bar = new SingleBar(
    { format: '  {bar} {percentage}% | {value}/{total} units | {eta_buffer}s left', etaBuffer: 5, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(units, 0);
  let errors = 0;
  const summary = await simulate({
    apiUrl: url,
    sdkKey: sdkKey.secret,
    experiment: exp.key,
    variants: exp.variants.map((v) => v.key),
    units,
    metrics,
    days,
    notBefore: startedAt,
    seed: values.seed === undefined ? undefined : number(values.seed, 'seed', 1),
    onProgress: (done) => bar.update(done),
    onError: () => errors++,
  });
  bar.stop();
  for (const line of formatSummary(summary)) process.stdout.write(`${line}\n`);
  if (errors) process.stdout.write(`(${errors} delivery error(s) reported by the SDK; retried where possible)\n`);
  process.stdout.write('Waiting for the analysis to catch up…\n');
  const results = await api.resultsAfter(exp.key, summary.finishedAt);
  for (const line of formatResults(results)) process.stdout.write(`${line}\n`);
}

function formatDays(days: number): string {
  return days >= 1 ? `${days.toFixed(days % 1 === 0 ? 0 : 1)} day(s)` : `${Math.max(1, Math.round(days * 24 * 60))} minute(s)`;
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
