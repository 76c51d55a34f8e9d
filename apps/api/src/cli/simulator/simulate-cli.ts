import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import type { MetricDto, MetricType } from '@strata/contracts';
import type { Attributes } from '@strata/sdk';
import { AdminApi } from './admin-api';
import { formatResults, formatSummary } from './report';
import { simulate, type SimMetric } from './simulator';

export const SIMULATE_USAGE =
  'usage: npm run simulate -- --experiment KEY [--units 50000] [--effect 0.05] [--metric METRIC_KEY] [--baseline 0.1] [--days 7]\n' +
  '         [--attributes country=DE,FR] [--attributes platform=ios,android] [--sdk-key KEY] [--url URL] [--key ADMIN_KEY] [--seed N]\n';

const DEFAULT_BASELINE: Record<MetricType, number> = { conversion: 0.1, count: 1, mean: 20, ratio: 0.3 };

export class SimulateUsageError extends Error {}

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new SimulateUsageError(`--${name} must be a number, got "${value}"`);
  return n;
}

/** `true`/`false` and numbers as such (targeting compares them typed), anything else as text. */
function attributeValue(raw: string): string | number | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/**
 * `--attributes country=DE,FR` (repeatable, or several separated by `;`): each unit draws one of
 * the listed values for each attribute, uniformly, from the simulation's seeded random source.
 */
export function parseAttributes(specs: readonly string[]): Record<string, (string | number | boolean)[]> {
  const out: Record<string, (string | number | boolean)[]> = {};
  for (const spec of specs.flatMap((s) => s.split(';')).filter((s) => s.trim() !== '')) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq).trim() : '';
    const values = eq > 0 ? spec.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '') : [];
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name) || values.length === 0) {
      throw new SimulateUsageError(`--attributes "${spec}": expected NAME=VALUE[,VALUE…], e.g. country=DE,FR`);
    }
    out[name] = values.map(attributeValue);
  }
  return out;
}

function simMetric(m: MetricDto, effect: number, baseline?: number): SimMetric {
  return { eventName: m.eventName, type: m.type, baseline: baseline ?? DEFAULT_BASELINE[m.type], effect, denominatorEventName: m.denominatorEventName };
}

function formatDays(days: number): string {
  return days >= 1 ? `${days.toFixed(days % 1 === 0 ? 0 : 1)} day(s)` : `${Math.max(1, Math.round(days * 24 * 60))} minute(s)`;
}

export interface SimulateIo {
  out(line: string): void;
  /** Progress bar on a terminal; tests pass false. */
  progress: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * `npm run simulate`: drives realistic traffic through @strata/sdk against a running API and
 * prints what it sent and the primary metric's lift from the results endpoint. Returns the exit
 * code: 0 done, 1 nothing reached the experiment (or the API refused), 2 usage.
 */
export async function simulateCli(argv: string[], io: SimulateIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      experiment: { type: 'string' },
      units: { type: 'string' },
      effect: { type: 'string' },
      metric: { type: 'string' },
      baseline: { type: 'string' },
      days: { type: 'string' },
      attributes: { type: 'string', multiple: true },
      'sdk-key': { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      seed: { type: 'string' },
      'unit-prefix': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.experiment) {
    io.out(SIMULATE_USAGE.trimEnd());
    return values.help ? 0 : 2;
  }
  const url = values.url ?? `http://localhost:${io.env.PORT ?? 3000}`;
  const adminKey = values.key ?? io.env.STRATA_ADMIN_KEY;
  if (!adminKey) throw new SimulateUsageError('an admin key is needed: --key or STRATA_ADMIN_KEY (the simulator reads the experiment and its metrics with it)');
  const units = Math.floor(number(values.units, 'units', 50_000));
  const effect = number(values.effect, 'effect', 0.05);
  const days = number(values.days, 'days', 7);
  if (units < 1) throw new SimulateUsageError('--units must be ≥ 1');
  if (!(days > 0 && days <= 7)) throw new SimulateUsageError('--days must be in (0, 7]: the collector rejects events older than 7 days');
  const attributeChoices = parseAttributes(values.attributes ?? []);

  const api = new AdminApi(url, adminKey);
  const exp = await api.experiment(values.experiment);
  if (exp.status !== 'running') {
    io.out(`simulate: experiment "${exp.key}" is ${exp.status}; start it first (POST /v1/experiments/${exp.key}/start)`);
    return 1;
  }
  const metricKey = values.metric ?? exp.primaryMetric;
  if (!metricKey) throw new SimulateUsageError(`experiment "${exp.key}" has no primary metric: pass --metric`);
  const target = await api.metric(metricKey);
  if (!target) throw new SimulateUsageError(`no metric "${metricKey}" (GET /v1/metrics/${metricKey} → 404)`);
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
  const span = Math.min(days, (Date.now() - startedAt) / 86_400_000);
  if (span < days) {
    io.out(`"${exp.key}" started ${exp.startedAt}: traffic is spread over the ${formatDays(span)} since (to simulate more days, start it with a backdated "startedAt", up to 7 days)`);
  }
  // A key of its own unless given one, revoked when the run ends: runs leave no usable key behind.
  const created = values['sdk-key'] ? null : await api.createSdkKey(`simulator ${new Date().toISOString()}`);
  const sdkKey = values['sdk-key'] ?? (created as { secret: string }).secret;
  try {
    const names = Object.keys(attributeChoices);
    io.out(
      `Simulating ${units} units over ${formatDays(span)} on "${exp.key}" (${exp.variants.map((v) => v.key).join(' vs ')}), ${metricKey} (${target.type}) lift ${effect}` +
        (names.length ? `, attributes ${names.map((n) => `${n}∈{${attributeChoices[n].join(',')}}`).join(' ')}` : ''),
    );
    const bar = io.progress
      ? new SingleBar({ format: '  {bar} {percentage}% | {value}/{total} units | {eta_buffer}s left', etaBuffer: 5, hideCursor: true }, Presets.shades_classic)
      : null;
    bar?.start(units, 0);
    let errors = 0;
    const summary = await simulate({
      apiUrl: url,
      sdkKey,
      experiment: exp.key,
      variants: exp.variants.map((v) => v.key),
      units,
      metrics,
      days,
      notBefore: startedAt,
      seed: values.seed === undefined ? undefined : number(values.seed, 'seed', 1),
      unitPrefix: values['unit-prefix'],
      attributes: names.length
        ? (_i, rand): Attributes => Object.fromEntries(names.map((n) => [n, attributeChoices[n][Math.floor(rand() * attributeChoices[n].length)]]))
        : undefined,
      onProgress: (done) => bar?.update(done),
      onError: () => errors++,
    });
    bar?.stop();
    for (const line of formatSummary(summary)) io.out(line);
    if (errors) io.out(`(${errors} delivery error(s) reported by the SDK; retried where possible)`);
    if (summary.exposures === 0) {
      io.out(
        `simulate: none of the ${units} units entered "${exp.key}" (traffic ${exp.traffic}%` +
          (exp.targeting ? `, targeting ${JSON.stringify(exp.targeting)}` : '') +
          `). ${exp.targeting ? 'Give the units the attributes its targeting asks for, e.g. --attributes country=DE,FR.' : 'Ramp its traffic up.'}`,
      );
      return 1;
    }
    if (summary.unitsOutside > 0 && exp.targeting && names.length === 0) {
      io.out(`Note: "${exp.key}" is targeted (${JSON.stringify(exp.targeting)}) and no --attributes were given.`);
    }
    io.out('Waiting for the analysis to catch up…');
    const results = await api.resultsAfter(exp.key, summary.finishedAt);
    for (const line of formatResults(results)) io.out(line);
    return 0;
  } finally {
    if (created) await api.revokeKey(created.id).catch((err: unknown) => io.out(`(could not revoke the simulator's SDK key ${created.id}: ${String(err)})`));
  }
}
