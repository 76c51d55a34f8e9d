import { afterEach, describe, expect, it } from 'vitest';
import { experiment, layer, rawUnitId, SHIP_VECTORS, snapshot } from '@strata/test-support';
import { ApiStub } from '../test/api-stub';
import { createClient, type StrataClient } from './index';

const VECTORS = SHIP_VECTORS;
let stub: ApiStub | null = null;
let client: StrataClient | null = null;

afterEach(async () => {
  await client?.close();
  await stub?.stop();
  client = null;
  stub = null;
});

async function start(salt: string, shipShare: number, logExposures = false): Promise<StrataClient> {
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
  client = createClient({ apiUrl: await stub.start(), sdkKey: 'sdk-test-key', logExposures, flushIntervalMs: 60_000 });
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

describe('staged-ship exposures in the SDK', () => {
  it('logs one ship:<key> exposure per unit in either arm, matching what getVariant gave, and none for a full ship', async () => {
    const c = await start('sdk-ship', 0.3, true);
    const ids = Array.from({ length: 60 }, (_, i) => `u${i}`);
    for (const id of ids) {
      c.getVariant('s', id);
      c.getValue('s', id, 'fallback');
    }
    await c.flush();
    const events = (stub as ApiStub).eventBatches().flat();
    const ship = events.filter((e) => e.experiment === 'ship:s');
    expect(ship).toHaveLength(ids.length);
    expect(new Set(ship.map((e) => e.variant))).toEqual(new Set(['winner', 'default']));
    for (const e of ship) expect(c.getVariant('s', e.unitId) === 'treatment').toBe(e.variant === 'winner');
    // A shipped winner is still no exposure of the experiment itself.
    expect(events.filter((e) => e.experiment === 's')).toEqual([]);
    await client?.close();
    await stub?.stop();
    const full = await start('sdk-ship', 1, true);
    for (const id of ids) full.getVariant('s', id);
    await full.flush();
    expect((stub as ApiStub).eventBatches().flat()).toEqual([]);
  });
});
