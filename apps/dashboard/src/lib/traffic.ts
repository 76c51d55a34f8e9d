import { BUCKETS_PER_LAYER } from '@strata/contracts';
import { formatInt } from './format';

/** Traffic is a percent of the layer's 10,000 buckets: 1% = 100 buckets, 0.01% = one bucket. */
export function bucketsFor(trafficPercent: number): number {
  return Math.round((trafficPercent / 100) * BUCKETS_PER_LAYER);
}

export function formatCount(n: number): string {
  return formatInt(n);
}

export function formatTraffic(trafficPercent: number): string {
  return `${Number(trafficPercent.toFixed(2))}%`;
}

/** What a ramp does to the layer and to units already in the experiment, in words. */
export function describeRamp(from: number, to: number): string {
  const held = bucketsFor(from);
  const target = bucketsFor(to);
  if (target > held) {
    return (
      `Ramping from ${formatTraffic(from)} to ${formatTraffic(to)} adds ${formatCount(target - held)} buckets; ` +
      `the ${formatCount(held)} buckets already held stay, so every unit already in keeps its variant.`
    );
  }
  if (target < held) {
    return (
      `Ramping down from ${formatTraffic(from)} to ${formatTraffic(to)} releases ${formatCount(held - target)} buckets; ` +
      `units in those buckets leave the experiment and see the default experience. ` +
      `The ${formatCount(target)} buckets that stay keep their units in the same variants.`
    );
  }
  return `Traffic stays at ${formatTraffic(from)} (${formatCount(held)} buckets); nothing changes.`;
}

/** What the API refuses (409 locked_while_running) once an experiment has started — keep in step with ExperimentService.update. */
export const LOCKED_WHILE_RUNNING =
  'While it runs, its variants and weights, layer, primary metric, secondary metrics and guardrail metrics are locked; ' +
  'you can still ramp traffic and edit the name, hypothesis, targeting, forced variants, planned sample size and auto-stop.';

export function describeStart(traffic: number, layer: string, freeBuckets: number | undefined): string {
  const need = bucketsFor(traffic);
  const free = freeBuckets === undefined ? '' : ` (${formatCount(freeBuckets)} are free now)`;
  return (
    `Starting reserves ${formatCount(need)} of layer “${layer}”’s 10,000 buckets${free} and begins assigning units ` +
    `at ${formatTraffic(traffic)} of traffic. ` +
    `${LOCKED_WHILE_RUNNING}`
  );
}

export function describeStop(heldBuckets: number): string {
  return (
    `Stopping ends assignment: every unit sees the default (control) experience again and the ` +
    `${formatCount(heldBuckets)} buckets it holds return to the layer. Results stay available; it cannot be restarted.`
  );
}

export function describeShip(variantName: string, variantKey: string): string {
  return (
    `Shipping gives “${variantName}” (${variantKey}) to every unit that matches the targeting, ` +
    `releases the experiment's buckets and ends the comparison. This cannot be undone.`
  );
}

/** A staged ship in words: who gets the winner at first, how it moves on, where a harm takes it. */
export function describeStagedShip(variantName: string, variantKey: string, steps: number[], onHarm: 'last_safe' | 'zero'): string {
  const [first, ...rest] = steps.map((s) => `${Number(s.toFixed(2))} %`);
  const then = rest.length ? `, then ${rest.join(', then ')}` : '';
  const harm = onHarm === 'zero' ? 'to 0 % (everyone sees the default)' : 'back to the last safe step';
  return (
    `Shipping in stages gives “${variantName}” (${variantKey}) to ${first} of the units that match the targeting at once ` +
    `(the others see the default)${then}. The next step comes when a step has held its minimums with healthy guardrails; ` +
    `on harm the share goes ${harm}. The experiment's buckets are released and the comparison ends.`
  );
}

export function describeConclude(experimentKey: string, shippedVariant: string | null): string {
  const now = shippedVariant
    ? `Today every unit in targeting gets “${shippedVariant}” from it; after concluding, apps asking for “${experimentKey}” get no variant (their default experience)`
    : `It assigns nobody already; after concluding, it is also gone from what apps download`;
  return (
    `Conclude once the experiment's code is removed from your apps. ${now}: it leaves every /v1/assign reply and the SDK configuration. ` +
    `Its results, exports and audit history stay readable. This cannot be undone.`
  );
}
