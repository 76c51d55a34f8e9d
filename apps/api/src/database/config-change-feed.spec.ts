import { describe, expect, it } from 'vitest';
import { ChangeBatcher, formatChange, parseChange } from './config-change-feed';

describe('change notifications', () => {
  it('round-trip the version and what changed', () => {
    expect(parseChange(formatChange(7, { entityType: 'experiment', key: 'new-checkout' }))).toEqual({ version: 7, change: { entityType: 'experiment', key: 'new-checkout' } });
    expect(parseChange(formatChange(8, { entityType: 'api_key', key: '0b6f1e2a-7c11-4c2b-9d53-8a536f1c2a9e' })).change?.entityType).toBe('api_key');
  });

  it('treat a bare or unknown payload as an unknown change (reload everything)', () => {
    expect(parseChange('12')).toEqual({ version: 12, change: null });
    expect(parseChange('12:metric:purchase')).toEqual({ version: 12, change: null });
  });
});

describe('ChangeBatcher', () => {
  it('applies the keys added while a reload runs together, in order, one reload at a time', async () => {
    const applied: (string[] | 'all')[] = [];
    let active = 0;
    let release: () => void = () => undefined;
    let gate = new Promise<void>((r) => (release = r));
    const b = new ChangeBatcher(async (keys) => {
      active++;
      expect(active).toBe(1);
      applied.push(keys === 'all' ? 'all' : [...keys].sort());
      await gate;
      active--;
    });
    const first = b.add('a');
    await new Promise((r) => setTimeout(r, 5));
    const second = [b.add('c'), b.add('b'), b.add('c')];
    gate = Promise.resolve();
    release();
    await Promise.all([first, ...second]);
    expect(applied).toEqual([['a'], ['b', 'c']]);
  });

  it('turns everything into one full reload once "all" is asked for', async () => {
    const applied: (string[] | 'all')[] = [];
    const b = new ChangeBatcher(async (keys) => {
      applied.push(keys === 'all' ? 'all' : [...keys]);
    });
    await Promise.all([b.add('x'), b.add('all'), b.add('y')]);
    expect(applied).toEqual(['all']);
  });

  it('keeps the keys of a failed reload for the next one and rejects its callers', async () => {
    const applied: string[][] = [];
    let fail = true;
    const b = new ChangeBatcher(async (keys) => {
      if (keys === 'all') return;
      applied.push([...keys].sort());
      if (fail) throw new Error('database down');
    });
    await expect(b.add('a')).rejects.toThrow('database down');
    fail = false;
    await b.add('b');
    expect(applied).toEqual([['a'], ['a', 'b']]);
  });
});
