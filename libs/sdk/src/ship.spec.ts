import { afterEach, describe, expect, it } from 'vitest';
import { ApiStub, experiment, layer, rawUnitId, shipVectors, snapshot } from '../test/api-stub';
import { createClient, type StrataClient } from './index';

const VECTORS = shipVectors();
let stub: ApiStub | null = null;
let client: StrataClient | null = null;

afterEach(async () => {
  await client?.close();
  await stub?.stop();
  client = null;
  stub = null;
});

async function start(salt: string, shipShare: number): Promise<StrataClient> {
  const shipped = experiment('s', 'L', {
    salt,
    status: 'shipped',
    ranges: [],
    shippedVariant: 'treatment',
    shipShare,
    valueType: 'string',
    variants: [
      { key: 'control', weight: 0.5, value: 'old' },
      { key: 'treatment', weight: 0.5, value: 'new' },
    ],
    defaultValue: 'old',
  });
  stub = new ApiStub(snapshot([layer('L')], [shipped]));
  client = createClient({ apiUrl: await stub.start(), sdkKey: 'sdk-test-key', logExposures: false, flushIntervalMs: 60_000 });
  expect(await client.ready()).toBe(true);
  return client;
}

describe('staged ships in the SDK', () => {
  it('has vectors with and without the winner at a partial share', () => {
    expect(VECTORS.some((v) => v.shipped[0])).toBe(true);
    expect(VECTORS.some((v) => !v.shipped[0])).toBe(true);
  });

  it.each(VECTORS.map((v, i) => [i, v.note, v] as const))('ship vector %i (%s): the winner (and its value) below the share, the default above', async (_i, _note, v) => {
    for (let i = 0; i < v.shipShares.length; i++) {
      const c = await start(v.experimentSalt, v.shipShares[i]);
      const id = rawUnitId(v);
      expect(c.getVariant('s', id)).toBe(v.shipped[i] ? 'treatment' : null);
      expect(c.getValue('s', id, 'fallback')).toBe(v.shipped[i] ? 'new' : 'old');
      await client?.close();
      await stub?.stop();
      client = null;
      stub = null;
    }
  });
});
