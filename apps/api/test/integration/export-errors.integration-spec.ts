import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetric, startExperiment } from '../helpers/analysis-fixtures';
import { createTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/test-app';

/**
 * The export routes answer their errors in the one JSON shape whatever content type their success
 * carries: a text/plain route must not leave its type on an error reply (Fastify then refuses the
 * JSON body and the client got a 500).
 */

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  await createMetric(t, { key: 'exp_conv', type: 'conversion', eventName: 'exp_event' });
  await startExperiment(t, { key: 'exported', primary: 'exp_conv' });
  base = await t.listen();
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/experiments/{key}/export/sql', () => {
  it('returns the analysis SQL as text/plain', async () => {
    const res = await t.request('GET', '/v1/experiments/exported/export/sql');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toMatch(/^-- Strata analysis SQL for experiment exported/);
    expect(res.text).toContain('SELECT');
  });

  it('answers 404 not_found as JSON for an unknown experiment', async () => {
    const res = await t.request('GET', '/v1/experiments/nope/export/sql', { headers: { 'x-request-id': 'sql-404' } });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error).toMatchObject({ code: 'not_found', requestId: 'sql-404' });
  });

  it('answers 400 validation_failed as JSON for an invalid key', async () => {
    const res = await t.request('GET', '/v1/experiments/E-RUN/export/sql');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details[0].path).toBe('key');
  });

  it('answers 401 as JSON without a key', async () => {
    const res = await t.request('GET', '/v1/experiments/exported/export/sql', { key: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('answers HEAD like GET, without a body, over a real socket', async () => {
    const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const ok = await fetch(`${base}/v1/experiments/exported/export/sql`, { method: 'HEAD', headers });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await ok.text()).toBe('');
    const missing = await fetch(`${base}/v1/experiments/nope/export/sql`, { method: 'HEAD', headers });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    const invalid = await fetch(`${base}/v1/experiments/E-RUN/export/sql`, { method: 'HEAD', headers });
    expect(invalid.status).toBe(400);
    const get = await fetch(`${base}/v1/experiments/nope/export/sql`, { headers });
    expect(get.status).toBe(404);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('the other export routes', () => {
  it.each(['/export?format=csv', '/export/units?format=csv'])('answer 404 and 400 as JSON on %s', async (suffix) => {
    const missing = await t.request('GET', `/v1/experiments/nope${suffix}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const invalid = await t.request('GET', `/v1/experiments/E-RUN${suffix}`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    const badFormat = await t.request('GET', `/v1/experiments/exported${suffix.replace('csv', 'xml')}`);
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.code).toBe('validation_failed');
  });
});
