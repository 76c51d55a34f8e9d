import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '@strata/test-support/api';

/*
 * ReDoS from a public key. A `regex` targeting rule is run on every assignment, with attribute
 * values the caller chooses. With JavaScript's backtracking RegExp, `^(\w|\d)+$` against 999 digits
 * and a `!` tries 2^999 paths: one client-key request froze the whole API (assignments and
 * /health alike). The server runs in its own process here, so the test keeps its event loop
 * when the server loses its own.
 */
let api: ApiProcess;
let clientKey: string;

const BOMBS = [
  { key: 'redos-alternation', pattern: '^(\\w|\\d)+$', attribute: 'id', value: `${'1'.repeat(999)}!` },
  { key: 'redos-star', pattern: '(a|a)*$', attribute: 'name', value: `${'a'.repeat(999)}!` },
];

beforeAll(async () => {
  api = await startApiProcess();
  expect((await api.request('POST', '/v1/layers', { body: { key: 'redos', name: 'ReDoS' } })).status).toBe(201);
  for (const [i, b] of BOMBS.entries()) {
    const layer = `redos-${i}`;
    expect((await api.request('POST', '/v1/layers', { body: { key: layer, name: layer } })).status).toBe(201);
    const created = await api.request('POST', '/v1/experiments', {
      body: {
        key: b.key,
        name: b.key,
        layer,
        traffic: 100,
        variants: [{ key: 'control', weight: 0.5 }, { key: 'treatment', weight: 0.5 }],
        targeting: { attribute: b.attribute, operator: 'regex', value: b.pattern },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect((await api.request('POST', `/v1/experiments/${b.key}/start`, { body: {} })).status).toBe(200);
  }
  clientKey = await api.sdkKey('sdk-client');
}, 180_000);

afterAll(async () => api?.close());

const assign = (attributes: Record<string, string>, signal: AbortSignal): Promise<Response> =>
  fetch(`${api.baseUrl}/v1/assign`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ unitId: 'attacker', attributes }),
    signal,
  });

it('evaluates backtracking bombs in linear time: every request and every concurrent /health answers', async () => {
  const attack = Object.fromEntries(BOMBS.map((b) => [b.attribute, b.value]));
  // Far beyond what 30 linear-time requests need on a loaded 2-core machine, and unreachable for a
  // backtracking engine (2^999 steps): the outcome is counted, not timed.
  const signal = AbortSignal.timeout(90_000);
  const outcomes = await Promise.allSettled([
    ...Array.from({ length: 30 }, async () => {
      const res = await assign(attack, signal);
      return { kind: 'assign', status: res.status, body: (await res.json()) as { assignments: unknown[] } };
    }),
    ...Array.from({ length: 30 }, async () => {
      const res = await fetch(`${api.baseUrl}/health`, { signal });
      return { kind: 'health', status: res.status, body: null };
    }),
  ]);
  const answered = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  expect(answered.filter((a) => a.kind === 'assign' && a.status === 200)).toHaveLength(30);
  expect(answered.filter((a) => a.kind === 'health' && a.status === 200)).toHaveLength(30);
  // The anchored patterns fail on the final '!'; `(a|a)*$` matches (the empty string at the end).
  for (const a of answered.filter((x) => x.kind === 'assign'))
    expect(a.body?.assignments).toEqual([expect.objectContaining({ experiment: 'redos-star', reason: 'bucketed' })]);

  // The same rules still target: a value that matches gets a variant.
  const fair = await assign({ id: '12345', name: 'aaa' }, AbortSignal.timeout(30_000));
  expect(((await fair.json()) as { assignments: { experiment: string }[] }).assignments.map((a) => a.experiment).sort()).toEqual(
    BOMBS.map((b) => b.key).sort(),
  );
}, 120_000);

it('refuses attribute values over 1,000 characters with a 400 naming the cap', async () => {
  const res = await assign({ id: '1'.repeat(10_000) }, AbortSignal.timeout(30_000));
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
  expect(body.error.code).toBe('validation_failed');
  expect(body.error.details[0]).toMatchObject({ path: 'attributes.id', message: expect.stringMatching(/1,?000/) });
});

it('refuses to save patterns RE2 cannot run in linear time, naming the construct', async () => {
  for (const [pattern, construct] of [
    ['^(a+)\\1$', 'backreferences'],
    ['^(?=.*@).*$', 'lookahead'],
    ['(?<!x)y', 'lookbehind'],
  ]) {
    const res = await api.request('POST', '/v1/experiments', {
      body: {
        key: 'redos-refused',
        name: 'refused',
        layer: 'redos',
        variants: [{ key: 'a', weight: 0.5 }, { key: 'b', weight: 0.5 }],
        targeting: { attribute: 'email', operator: 'regex', value: pattern },
      },
    });
    expect(res.status, pattern).toBe(400);
    expect(res.body.error.details[0], pattern).toMatchObject({ path: 'targeting.value', message: expect.stringContaining(construct) });
  }
});
