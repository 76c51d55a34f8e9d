import type { ApiUnderTest } from './api-under-test';

export interface FixtureExperiment {
  key: string;
  salt: string;
  variants: { key: string; weight: number }[];
}

/** A layer plus a running two-variant experiment; returns what a client needs to send valid exposures. */
export async function runningExperiment(
  t: ApiUnderTest,
  key: string,
  extra: Record<string, unknown> = {},
  start = true,
): Promise<FixtureExperiment> {
  const layer = `${key}-layer`;
  const l = await t.admin('POST', '/v1/layers', { key: layer, name: layer });
  if (l.status !== 201 && l.status !== 200) throw new Error(`layer: ${l.status} ${l.text}`);
  const variants = [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ];
  const created = await t.admin('POST', '/v1/experiments', { key, name: key, layer, variants, traffic: 100, ...extra });
  if (created.status !== 201 && created.status !== 200) throw new Error(`experiment: ${created.status} ${created.text}`);
  if (start) {
    // Backdated, so exposures timed anywhere in the collector's 7-day window are admitted.
    const started = await t.admin('POST', `/v1/experiments/${key}/start`, {
      startedAt: new Date(Date.now() - 7 * 86_400_000 + 60_000).toISOString(),
    });
    if (started.status !== 200) throw new Error(`start: ${started.status} ${started.text}`);
    // Past the 7-day minimum duration (see analysis-fixtures' coverWeeklyCycle).
    await t.query("UPDATE experiments SET started_at = started_at - interval '1 day' WHERE key = $1", [key]);
  }
  await t.catalogSees(key, start ? 'running' : 'draft');
  return { key, salt: created.body.salt as string, variants };
}
