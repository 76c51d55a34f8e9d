import { describe, expect, it } from 'vitest';
import { StatsInputError } from '@strata/stats';
import { renderError } from './render-error';

describe('renderError', () => {
  it('answers a unique violation no service translated with 409 already_exists, not a 500', () => {
    const rendered = renderError(
      Object.assign(new Error('duplicate key value violates unique constraint "metrics_pkey"'), { code: '23505' }),
      'req-1',
    );
    expect(rendered.status).toBe(409);
    expect(rendered.body).toEqual({
      error: { code: 'already_exists', message: 'A resource with that key already exists.', details: [], requestId: 'req-1' },
    });
  });

  it('answers a foreign-key violation (a write naming something deleted meanwhile) with 409 conflict', () => {
    const rendered = renderError(Object.assign(new Error('insert or update on table "experiments" violates foreign key constraint'), { code: '23503' }), 'req-2');
    expect([rendered.status, rendered.body.error.code, rendered.body.error.requestId]).toEqual([409, 'conflict', 'req-2']);
  });

  it('answers a database that is unavailable or has no free pooled connection with 503 and Retry-After', () => {
    for (const error of [new Error('timeout exceeded when trying to connect'), Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), Object.assign(new Error('too many clients'), { code: '53300' })]) {
      const rendered = renderError(error, 'req-3');
      expect([rendered.status, rendered.body.error.code, rendered.headers['retry-after'], rendered.unexpected], error.message).toEqual([503, 'unavailable', '1', false]);
    }
  });

  it('answers inputs libs/stats refuses with 400 invalid_statistics_input and its message', () => {
    const r = renderError(new StatsInputError('previous pValue must be a p-value in [0, 1], got 2'), 'req-1');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_statistics_input', message: 'previous pValue must be a p-value in [0, 1], got 2', details: [] });
  });

  it('still answers other database errors with a plain 500', () => {
    const rendered = renderError(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(rendered.status).toBe(500);
    expect(rendered.body.error.code).toBe('internal_error');
  });
});
