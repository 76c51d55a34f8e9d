import { describe, expect, it } from 'vitest';
import { exposureRows } from './exposure-rows';

describe('server-side exposure rows', () => {
  it('keeps the assignment time in epoch ms and makes exposure rows without a received_at', () => {
    const at = Date.UTC(2026, 11, 8, 9, 30, 0, 123);
    const [row] = exposureRows(
      [{ unitId: 'u1', experiment: 'exp', variant: 'treatment', attributes: { plan: 'pro' }, timestamp: at }],
      'key-1',
    );
    expect(row).toMatchObject({
      type: 'exposure',
      unitId: 'u1',
      experimentKey: 'exp',
      variantKey: 'treatment',
      name: null,
      value: null,
      ts: at,
      attributes: '{"plan":"pro"}',
      apiKeyId: 'key-1',
      forced: false,
    });
    expect(row).not.toHaveProperty('receivedAt');
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps a given id (lower-cased), the forced flag and absent attributes', () => {
    const id = '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B';
    const [row] = exposureRows(
      [{ unitId: 'u2', experiment: 'exp', variant: 'control', attributes: null, timestamp: 1, id, forced: true }],
      null,
    );
    expect(row).toMatchObject({ id: id.toLowerCase(), ts: 1, attributes: null, apiKeyId: null, forced: true });
  });
});
