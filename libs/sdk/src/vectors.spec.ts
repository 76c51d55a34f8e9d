import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETING_VECTORS, experiment, layer, rawUnitId, snapshot } from '@strata/test-support';
import { ApiStub } from '../test/api-stub';
import { createClient, type StrataClient } from './index';

// Every published bucketing vector, assigned through the SDK's public API from a snapshot served
// over HTTP: the SDK must agree with libs/bucketing (and so with the server) on every one.
const experiments = BUCKETING_VECTORS.map((v, i) =>
  experiment(`v${i}`, `l${i}`, {
    salt: v.experimentSalt,
    variants: v.variants.map((key, j) => ({ key, weight: v.weights[j] })),
    ranges: [{ start: v.bucket, end: v.bucket + 1 }],
  }),
);
const stub = new ApiStub(
  snapshot(
    BUCKETING_VECTORS.map((v, i) => layer(`l${i}`, v.layerSalt)),
    experiments,
  ),
);
let client: StrataClient;

beforeAll(async () => {
  client = createClient({ apiUrl: await stub.start(), sdkKey: 'sdk-test-key', logExposures: false });
  expect(await client.ready()).toBe(true);
});
afterAll(async () => {
  await client.close();
  await stub.stop();
});

describe('bucketing vectors through the SDK', () => {
  it.each(BUCKETING_VECTORS.map((v, i) => [i, v.note, v] as const))('vector %i (%s) gets its published variant', (i, _note, v) => {
    expect(client.getVariant(`v${i}`, rawUnitId(v))).toBe(v.variant);
  });

  it('returns null for a unit whose bucket another slot holds', () => {
    const v = BUCKETING_VECTORS[0];
    // The experiment holds exactly one bucket; a different id almost surely lands elsewhere.
    const other = ['a', 'b', 'c', 'd', 'e'].find((id) => client.getAssignment('v0', id) === null);
    expect(other).toBeDefined();
    expect(client.getVariant('v0', v.unitId)).toBe(v.variant);
  });
});
