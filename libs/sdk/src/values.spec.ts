import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experiment, layer, snapshot } from '@strata/test-support';
import { ApiStub, until } from '../test/api-stub';
import { createClient, type StrataClient, type StrataError } from './index';

// Variant values through the SDK's public API, from a snapshot (local) and from /v1/assign replies (remote).
const stub = new ApiStub(
  snapshot(
    [layer('web'), layer('api')],
    [
      experiment('colour', 'web', {
        valueType: 'string',
        defaultValue: 'grey',
        variants: [
          { key: 'control', weight: 0.5, value: 'grey' },
          { key: 'treatment', weight: 0.5, value: 'green' },
        ],
        targeting: { attribute: 'country', operator: 'eq', value: 'DE' },
      }),
      experiment('limits', 'api', {
        valueType: 'json',
        defaultValue: { perMinute: 30 },
        variants: [
          { key: 'control', weight: 0.5, value: { perMinute: 30 } },
          { key: 'treatment', weight: 0.5, value: { perMinute: 60, tags: ['x'] } },
        ],
      }),
      experiment('plain', 'web', { status: 'shipped', ranges: [], shippedVariant: 'treatment' }),
    ],
  ),
);
let local: StrataClient;
const errors: StrataError[] = [];

beforeAll(async () => {
  local = createClient({ apiUrl: await stub.start(), sdkKey: 'sdk-test-key', flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
  expect(await local.ready()).toBe(true);
});
afterAll(async () => {
  await local.close(100);
  await stub.stop();
});

describe('values, local mode', () => {
  it("gives each unit its variant's value and logs the exposure once", () => {
    const byVariant = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const variant = local.getVariant('colour', `u${i}`, { country: 'DE' });
      byVariant.set(String(variant), local.getStringValue('colour', `u${i}`, 'fallback', { country: 'DE' }));
    }
    expect(Object.fromEntries(byVariant)).toEqual({ control: 'grey', treatment: 'green' });
  });

  it('gives the default value to units not in the experiment and the fallback for unknown ones', () => {
    expect(local.getStringValue('colour', 'u1', 'fallback', { country: 'US' })).toBe('grey');
    expect(local.lookup('colour', 'u1', { country: 'US' })).toEqual({ status: 'default', valueType: 'string', value: 'grey' });
    expect(local.getStringValue('nope', 'u1', 'fallback')).toBe('fallback');
    expect(local.lookup('nope', 'u1')).toEqual({ status: 'unknown' });
    // No values: the fallback, whatever the variant.
    expect(local.getValue('plain', 'u1', 'fallback')).toBe('fallback');
    expect(local.getVariant('plain', 'u1')).toBe('treatment');
  });

  it('answers JSON values deep-frozen, and the fallback with a type_mismatch for the wrong getter', () => {
    const v = local.getJsonValue('limits', 'u7', {});
    expect([{ perMinute: 30 }, { perMinute: 60, tags: ['x'] }]).toContainEqual(v);
    expect(Object.isFrozen(v)).toBe(true);
    errors.length = 0;
    expect(local.getNumberValue('limits', 'u7', 5)).toBe(5);
    expect(errors.map((e) => e.kind)).toEqual(['type_mismatch']);
    expect(local.getBooleanValue('colour', 'u1', true, { country: 'DE' })).toBe(true);
    // json takes any JSON value, a string too.
    expect(local.getJsonValue('colour', 'u1', null, { country: 'US' })).toBe('grey');
  });

  it('queues exposures for values of bucketed units only once', async () => {
    const before = local.stats().queued;
    local.getJsonValue('limits', 'exp-unit', {});
    local.getJsonValue('limits', 'exp-unit', {});
    local.getStringValue('colour', 'exp-unit', '', { country: 'US' }); // default: no exposure
    expect(local.stats().queued - before).toBe(1);
  });
});

describe('values, remote mode', () => {
  it('reads values and defaults from /v1/assign replies', async () => {
    stub.onAssign = (r, res) =>
      ApiStub.json(res, 200, {
        assignments:
          r.body.unitId === 'in' ? [{ experiment: 'colour', layer: 'web', variant: 'treatment', reason: 'bucketed', value: 'green' }] : [],
        defaults: r.body.unitId === 'in' ? { limits: { perMinute: 30 } } : { colour: 'grey', limits: { perMinute: 30 } },
      });
    const remote = createClient({ apiUrl: stub.url, sdkKey: 'sdk-test-key', mode: 'remote', logExposures: false });
    try {
      expect(local.getStringValue('x', 'y', 'z')).toBe('z');
      expect(await remote.getValueAsync('colour', 'in', 'fallback')).toBe('green');
      expect(remote.getStringValue('colour', 'in', 'fallback')).toBe('green');
      expect(remote.lookup('limits', 'in')).toEqual({ status: 'default', valueType: 'json', value: { perMinute: 30 } });
      expect(remote.lookup('colour', 'out')).toEqual({ status: 'not_ready' });
      await until(() => remote.lookup('colour', 'out').status !== 'not_ready');
      expect(remote.getStringValue('colour', 'out', 'fallback')).toBe('grey');
      expect(remote.lookup('unknown', 'out')).toEqual({ status: 'unknown' });
    } finally {
      stub.onAssign = null;
      await remote.close(100);
    }
  });
});
