import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/common/guards/principal';
import { bumpConfigVersion } from '../../src/database/config-change-feed';
import { AuditService } from '../../src/modules/audit/audit.service';
import { ConfigStateService } from '../../src/modules/config-state/config-state.service';
import { ExperimentCatalog } from '../../src/modules/config-state/experiment-catalog';
import { createTestApp, type TestApp } from '../helpers/test-app';

/*
 * ConfigStateService reads the configuration once per version and derives the assignment
 * snapshot, the collector's catalog and the API key map from that one read, with one retry policy
 * (the change feed's backoff). Here a read fails (the holdouts table, which every read joins, is
 * renamed away for a moment, as a botched migration or a lock timeout would) and all three views
 * must recover by the retry alone: no further configuration change is made after the failure.
 */
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const dbVersion = async (): Promise<number> => Number((await t.dataSource.query('SELECT version FROM config_version WHERE id'))[0].version);
const health = async (): Promise<{ version: number; behind: boolean; ageSeconds: number; lastError: string | null }> =>
  (await t.request<{ config: { version: number; behind: boolean; ageSeconds: number; lastError: string | null } }>('GET', '/health', { key: null })).body.config;
const assignStatus = async (key: string): Promise<number> => (await t.request('POST', '/v1/assign', { key, body: { unitId: 'u-1', attributes: {} } })).status;

const experiment = (key: string) => ({ key, name: key, layer: 'cs-layer', traffic: 50, variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }] });

describe('one configuration state', () => {
  it('recovers the snapshot, the catalog and the key map by retrying a failed read, without a new change', async () => {
    const state = t.app.get(ConfigStateService);
    const catalog = t.app.get(ExperimentCatalog);
    expect((await t.admin('POST', '/v1/layers', { key: 'cs-layer', name: 'Config state' })).status).toBe(201);
    expect((await t.admin('POST', '/v1/experiments', experiment('cs-new'))).status).toBe(201);
    const key = await t.admin<{ id: string; secret: string }>('POST', '/v1/api-keys', { name: 'cs-sdk', type: 'sdk-server' });
    expect(key.status).toBe(201);
    expect(await assignStatus(key.body.secret)).toBe(200);
    await expect.poll(async () => (await health()).version, { timeout: 5000, interval: 20 }).toBe(await dbVersion());
    expect(catalog.get('cs-new')?.status).toBe('draft');

    await t.dataSource.query('ALTER TABLE holdouts RENAME TO holdouts_away');
    let restored = false;
    try {
      // Two changes while every read fails: an experiment starts, and another process revokes the key.
      expect((await t.admin('POST', '/v1/experiments/cs-new/start')).status).toBe(200);
      await t.dataSource.transaction(async (m) => {
        await m.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.body.id]);
        await bumpConfigVersion(m, { entityType: 'api_key', key: key.body.id });
      });
      await expect.poll(async () => (await health()).lastError ?? '', { timeout: 5000, interval: 20 }).toContain('holdouts');
      const failed = await health();
      expect(failed.behind).toBe(true);
      expect(failed.version).toBe((await dbVersion()) - 2);
      // All three views are still the last good read.
      expect(state.compiled.byKey.has('cs-new')).toBe(false);
      expect(catalog.get('cs-new')?.status).toBe('draft');
      expect(await assignStatus(key.body.secret)).toBe(200);

      const versionAtRecovery = await dbVersion();
      await t.dataSource.query('ALTER TABLE holdouts_away RENAME TO holdouts');
      restored = true;
      // The feed's backoff (at most 5 s between attempts) retries the same changes.
      await expect.poll(async () => (await health()).behind, { timeout: 10_000, interval: 20 }).toBe(false);
      const recovered = await health();
      expect(recovered.lastError).toBeNull();
      expect(recovered.version).toBe(versionAtRecovery);
      expect(await dbVersion()).toBe(versionAtRecovery);
      expect(state.compiled.byKey.get('cs-new')?.status).toBe('running');
      expect(catalog.get('cs-new')?.status).toBe('running');
      expect(catalog.get('cs-new')?.startedAt).toBeGreaterThan(0);
      expect(await assignStatus(key.body.secret)).toBe(401);
      const served = await t.admin<{ experiments: { key: string }[] }>('GET', '/v1/sdk/config');
      expect(served.body.experiments.map((e) => e.key)).toContain('cs-new');
    } finally {
      if (!restored) await t.dataSource.query('ALTER TABLE holdouts_away RENAME TO holdouts');
    }
  });

  it('bumps the configuration version for a configuration change, not for a guardrail finding', async () => {
    const audit = t.app.get(AuditService);
    const guardrails = systemActor('guardrails');
    const before = await dbVersion();
    await t.dataSource.transaction((m) =>
      audit.record(m, guardrails, {
        action: 'experiment.guardrail_finding',
        entityType: 'experiment',
        entityKey: 'cs-new',
        before: null,
        after: { autoStopped: false, findings: [] },
      }),
    );
    expect(await dbVersion()).toBe(before);
    const rows: { action: string; actor_name: string }[] = await t.dataSource.query(
      "SELECT action, actor_name FROM audit_log WHERE entity_key = 'cs-new' AND action = 'experiment.guardrail_finding'",
    );
    expect(rows).toEqual([{ action: 'experiment.guardrail_finding', actor_name: 'guardrails' }]);
    // A change of served configuration still bumps it, by one.
    expect((await t.admin('PATCH', '/v1/experiments/cs-new', { traffic: 60 })).status).toBe(200);
    expect(await dbVersion()).toBe(before + 1);
  });
});
