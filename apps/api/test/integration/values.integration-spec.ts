import type { AssignResponse, ConfigSnapshot, ExperimentDto } from '@strata/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStateService } from '../../src/modules/config-state/config-state.service';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * Variant values through the API on a real PostgreSQL: validation on save, the running lock,
 * the snapshot, /v1/assign (value per assignment, defaults for experiments the unit is not in),
 * explain, and a shipped experiment serving the winner's value.
 */

let t: TestApp;

async function admin<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await t.admin(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
  return res.body as T;
}

async function assign(unitId: string, attributes: Record<string, string> = {}, experiments?: string[]): Promise<AssignResponse> {
  await t.app.get(ConfigStateService).reload();
  const res = await t.admin<AssignResponse>('POST', '/v1/assign', { unitId, attributes, ...(experiments ? { experiments } : {}) });
  expect(res.status).toBe(200);
  return res.body;
}

const colours = {
  key: 'button-colour',
  name: 'Button colour',
  layer: 'web',
  valueType: 'string',
  defaultValue: 'grey',
  variants: [
    { key: 'control', weight: 0.5, value: 'grey' },
    { key: 'treatment', weight: 0.5, value: 'green' },
  ],
};

beforeAll(async () => {
  t = await createTestApp();
  await admin('POST', '/v1/layers', { key: 'web', name: 'Web' });
  await admin('POST', '/v1/layers', { key: 'api', name: 'API' });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('saving values', () => {
  it('stores a typed value per variant and a default, and reads them back', async () => {
    const e = await admin<ExperimentDto>('POST', '/v1/experiments', colours);
    expect(e.valueType).toBe('string');
    expect(e.defaultValue).toBe('grey');
    expect(e.variants.map((v) => v.value)).toEqual(['grey', 'green']);
    const plain = await admin<ExperimentDto>('POST', '/v1/experiments', {
      key: 'plain',
      name: 'Plain',
      layer: 'api',
      variants: [
        { key: 'a', weight: 0.5 },
        { key: 'b', weight: 0.5 },
      ],
    });
    expect(plain.valueType).toBeNull();
    expect(plain.defaultValue).toBeNull();
    expect(plain.variants[0]).not.toHaveProperty('value');
  });

  it.each([
    [
      'a value of the wrong type',
      {
        ...colours,
        key: 'x1',
        variants: [
          { key: 'a', weight: 0.5, value: 1 },
          { key: 'b', weight: 0.5, value: 'x' },
        ],
      },
      'variants.0.value',
    ],
    [
      'a missing variant value',
      {
        ...colours,
        key: 'x2',
        variants: [
          { key: 'a', weight: 0.5, value: 'x' },
          { key: 'b', weight: 0.5 },
        ],
      },
      'variants.1.value',
    ],
    ['a missing default', { ...colours, key: 'x3', defaultValue: undefined }, 'defaultValue'],
    ['values without a valueType', { ...colours, key: 'x4', valueType: undefined }, 'variants.0.value'],
    [
      'JSON over 8 KB',
      {
        ...colours,
        key: 'x5',
        valueType: 'json',
        defaultValue: {},
        variants: [
          { key: 'a', weight: 0.5, value: { s: 'x'.repeat(8200) } },
          { key: 'b', weight: 0.5, value: {} },
        ],
      },
      'variants.0.value',
    ],
    [
      'JSON nested deeper than 10',
      {
        ...colours,
        key: 'x6',
        valueType: 'json',
        defaultValue: JSON.parse('['.repeat(11) + ']'.repeat(11)),
        variants: [
          { key: 'a', weight: 0.5, value: {} },
          { key: 'b', weight: 0.5, value: {} },
        ],
      },
      'defaultValue',
    ],
    ['a NUL in a string value', { ...colours, key: 'x7', defaultValue: 'a\u0000b' }, 'defaultValue'],
    ['an unknown valueType', { ...colours, key: 'x8', valueType: 'date' }, 'valueType'],
  ])('refuses %s with a 400 naming the field', async (_name, body, path) => {
    const res = await t.admin('POST', '/v1/experiments', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('checks an update against the stored valueType', async () => {
    const res = await t.admin('PATCH', '/v1/experiments/button-colour', { defaultValue: 3 });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('defaultValue');
    const changed = await admin<ExperimentDto>('PATCH', '/v1/experiments/button-colour', {
      variants: [
        { key: 'control', weight: 0.5, value: 'grey' },
        { key: 'treatment', weight: 0.5, value: 'blue' },
      ],
    });
    expect(changed.variants[1].value).toBe('blue');
  });

  it('changes the type in a draft only with values of the new type', async () => {
    const res = await t.admin('PATCH', '/v1/experiments/plain', { valueType: 'number' });
    expect(res.status).toBe(400);
    const e = await admin<ExperimentDto>('PATCH', '/v1/experiments/plain', {
      valueType: 'number',
      defaultValue: 10,
      variants: [
        { key: 'a', weight: 0.5, value: 10 },
        { key: 'b', weight: 0.5, value: 20 },
      ],
    });
    expect(e.variants.map((v) => v.value)).toEqual([10, 20]);
    const back = await admin<ExperimentDto>('PATCH', '/v1/experiments/plain', { valueType: null });
    expect(back.defaultValue).toBeNull();
    expect(back.variants[0]).not.toHaveProperty('value');
  });
});

describe('while running', () => {
  beforeAll(async () => {
    await admin('PATCH', '/v1/experiments/button-colour', { targeting: { attribute: 'country', operator: 'eq', value: 'DE' } });
    await admin('POST', '/v1/experiments/button-colour/start');
  });

  it('locks the values and the type with the variants, but not the default', async () => {
    const values = await t.admin('PATCH', '/v1/experiments/button-colour', {
      variants: [
        { key: 'control', weight: 0.5, value: 'grey' },
        { key: 'treatment', weight: 0.5, value: 'red' },
      ],
    });
    expect(values.status).toBe(409);
    expect(values.body.error.code).toBe('locked_while_running');
    const type = await t.admin('PATCH', '/v1/experiments/button-colour', { valueType: 'json' });
    expect(type.status).toBe(409);
    // The same variants sent back (as a form does) are no change.
    const same = await t.admin('PATCH', '/v1/experiments/button-colour', {
      variants: [
        { key: 'control', name: 'control', weight: 0.5, value: 'grey' },
        { key: 'treatment', weight: 0.5, value: 'blue' },
      ],
    });
    expect(same.status).toBe(200);
    const def = await admin<ExperimentDto>('PATCH', '/v1/experiments/button-colour', { defaultValue: 'silver' });
    expect(def.defaultValue).toBe('silver');
  });

  it('serves the values in the snapshot', async () => {
    await t.app.get(ConfigStateService).reload();
    const res = await t.admin<ConfigSnapshot>('GET', '/v1/sdk/config');
    const e = res.body.experiments.find((x) => x.key === 'button-colour');
    expect(e?.valueType).toBe('string');
    expect(e?.defaultValue).toBe('silver');
    expect(e?.variants).toEqual([
      { key: 'control', weight: 0.5, value: 'grey' },
      { key: 'treatment', weight: 0.5, value: 'blue' },
    ]);
  });

  it('answers the value with each assignment and the default for units not in the experiment', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = await assign(`u-${i}`, { country: 'DE' });
      const a = r.assignments.find((x) => x.experiment === 'button-colour');
      expect(a).toBeDefined();
      expect(a?.value).toBe(a?.variant === 'control' ? 'grey' : 'blue');
      seen.add(String(a?.value));
      expect(r.defaults).toBeUndefined();
    }
    expect([...seen].sort()).toEqual(['blue', 'grey']);
    const out = await assign('u-1', { country: 'US' });
    expect(out.assignments).toEqual([]);
    expect(out.defaults).toEqual({ 'button-colour': 'silver' });
    // Only the experiments asked for.
    expect((await assign('u-1', { country: 'US' }, ['plain'])).defaults).toBeUndefined();
    expect((await assign('u-1', { country: 'US' }, ['button-colour'])).defaults).toEqual({ 'button-colour': 'silver' });
    const batch = await t.admin('POST', '/v1/assign/batch', {
      units: [
        { unitId: 'u-1', attributes: { country: 'US' } },
        { unitId: 'u-2', attributes: { country: 'DE' } },
      ],
    });
    expect(batch.body.results[0].defaults).toEqual({ 'button-colour': 'silver' });
    expect(batch.body.results[1].defaults).toBeUndefined();
    expect(batch.body.results[1].assignments[0].value).toMatch(/^(grey|blue)$/);
  });

  it('explains which value and why', async () => {
    const q = (unitId: string, country: string) =>
      `/v1/explain?unitId=${unitId}&experiment=button-colour&attributes=${encodeURIComponent(JSON.stringify({ country }))}`;
    const inside = await t.admin('GET', q('u-3', 'DE'));
    expect(inside.body.valueSource).toBe('variant');
    expect(inside.body.value).toBe(inside.body.assignment.variant === 'control' ? 'grey' : 'blue');
    expect(inside.body.message).toContain(`Value "${inside.body.value}" (the value of variant "${inside.body.assignment.variant}")`);
    const outside = await t.admin('GET', q('u-3', 'US'));
    expect(outside.body.outcome).toBe('targeting_failed');
    expect(outside.body.valueSource).toBe('default');
    expect(outside.body.value).toBe('silver');
    expect(outside.body.message).toContain('the default value of "button-colour"');
  });
});

describe('once shipped', () => {
  it("serves the winner's value to everyone in targeting and the default to the rest", async () => {
    await admin('POST', '/v1/experiments/button-colour/ship', { variant: 'treatment' });
    for (let i = 0; i < 20; i++) {
      const r = await assign(`s-${i}`, { country: 'DE' });
      expect(r.assignments).toEqual([
        { experiment: 'button-colour', layer: 'web', variant: 'treatment', reason: 'shipped', value: 'blue' },
      ]);
    }
    expect((await assign('s-1', { country: 'FR' })).defaults).toEqual({ 'button-colour': 'silver' });
  });
});

describe('JSON and number values', () => {
  it('round-trips JSON objects and numbers through the assignment reply', async () => {
    const config = { limits: { perMinute: 60 }, tags: ['a', 'b'], beta: true };
    await admin('POST', '/v1/experiments', {
      key: 'rate-config',
      name: 'Rate config',
      layer: 'api',
      valueType: 'json',
      defaultValue: { limits: { perMinute: 30 } },
      variants: [
        { key: 'control', weight: 0.5, value: { limits: { perMinute: 30 } } },
        { key: 'treatment', weight: 0.5, value: config },
      ],
    });
    await admin('POST', '/v1/experiments/rate-config/start');
    const values = new Map<string, unknown>();
    for (let i = 0; i < 40; i++) {
      const a = (await assign(`j-${i}`)).assignments.find((x) => x.experiment === 'rate-config');
      if (a) values.set(a.variant, a.value);
    }
    expect(values.get('treatment')).toEqual(config);
    expect(values.get('control')).toEqual({ limits: { perMinute: 30 } });
  });
});
