import { describe, expect, it } from 'vitest';
import { createExperimentSchema, createLayerSchema, createMetricSchema } from './config';
import { humanIssueMessage } from './issue-messages';

const messages = (r: { error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  Object.fromEntries((r.error?.issues ?? []).map((i) => [i.path.join('.'), i.message]));

describe('human messages for schema issues', () => {
  it('says "Enter a name" instead of zod\'s developer text, and keeps messages written on the schema', () => {
    const r = createLayerSchema.safeParse({ key: 'Bad Key', name: '' }, { error: humanIssueMessage });
    expect(messages(r)).toEqual({
      key: 'must be lowercase letters, digits, "-" or "_" (url-safe), starting with a letter or digit',
      name: 'Enter a name',
    });
  });

  it('names bounds in words for numbers, lists and missing fields', () => {
    const r = createExperimentSchema.safeParse(
      {
        key: 'x',
        name: 'X',
        layer: 'l',
        variants: [
          { key: 'a', weight: 0.5 },
          { key: 'b', weight: 1.5 },
        ],
        traffic: 'lots',
        extra: 1,
      },
      { error: humanIssueMessage },
    );
    const m = messages(r);
    expect(m['variants.1.weight']).toBe('Enter 1 or less');
    expect(m['traffic']).toBe('Enter a number');
    expect(m['']).toBe('Unknown field: extra');
    const missing = createMetricSchema.safeParse({ key: 'm', name: 'M', type: 'conversion' }, { error: humanIssueMessage });
    expect(messages(missing)['eventName']).toBe('Enter an event name');
    const badType = createMetricSchema.safeParse({ key: 'm', name: 'M', type: 'sum', eventName: 'e' }, { error: humanIssueMessage });
    expect(messages(badType)['type']).toBe('Choose one of conversion, count, mean, ratio');
  });
});
