import { afterEach, describe, expect, it } from 'vitest';
import { experiment, HOLDOUT_VECTORS, layer, rawUnitId, snapshot } from '@strata/test-support';
import { ApiStub } from '../test/api-stub';
import { createClient, type StrataClient } from './index';

const VECTORS = HOLDOUT_VECTORS;
let stub: ApiStub | null = null;
let client: StrataClient | null = null;

afterEach(async () => {
  await client?.close();
  await stub?.stop();
  client = null;
  stub = null;
});

async function start(holdouts: { key: string; salt: string; share: number; layers: string[] | null }[], logExposures = false): Promise<StrataClient> {
  const base = snapshot([layer('covered'), layer('free')], [experiment('e', 'covered'), experiment('shipped', 'covered', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }), experiment('f', 'free')]);
  stub = new ApiStub({ ...base, holdouts });
  client = createClient({ apiUrl: await stub.start(), sdkKey: 'sdk-test-key', logExposures, flushIntervalMs: 60_000 });
  expect(await client.ready()).toBe(true);
  return client;
}

describe('holdouts in the SDK', () => {
  it.each(VECTORS.map((v, i) => [i, v.note, v] as const))('holdout vector %i (%s): no variant in covered layers when held out', async (_i, _note, v) => {
    const c = await start([{ key: 'h', salt: v.holdoutSalt, share: v.share, layers: ['covered'] }]);
    const id = rawUnitId(v);
    expect(c.getVariant('e', id) === null).toBe(v.inHoldout);
    expect(c.getVariant('shipped', id) === null).toBe(v.inHoldout);
    expect(c.getVariant('f', id)).not.toBeNull();
  });

  it('logs one holdout exposure per unit and holdout, for both arms, only for covered layers', async () => {
    const c = await start([{ key: 'h', salt: 'sdk-holdout', share: 0.5, layers: ['covered'] }], true);
    const ids = Array.from({ length: 40 }, (_, i) => `u${i}`);
    for (const id of ids) {
      c.getVariant('e', id);
      c.getVariant('e', id);
      c.getVariant('shipped', id);
      c.getVariant('f', id);
    }
    await c.flush();
    const events = (stub as ApiStub).eventBatches().flat();
    const holdout = events.filter((e) => e.experiment === 'holdout:h');
    expect(holdout).toHaveLength(ids.length);
    const arms = new Set(holdout.map((e) => e.variant));
    expect([...arms].sort()).toEqual(['holdout', 'rest']);
    for (const e of holdout) expect(c.getVariant('e', e.unitId) === null).toBe(e.variant === 'holdout');
    // Held-out units log no exposure to the experiment itself.
    const heldIds = new Set(holdout.filter((e) => e.variant === 'holdout').map((e) => e.unitId));
    expect(events.filter((e) => e.experiment === 'e' && heldIds.has(e.unitId))).toEqual([]);
  });
});
