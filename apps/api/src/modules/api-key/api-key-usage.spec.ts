import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../config/app-config';
import { ApiKeyUsage } from './api-key-usage';

function usage(query: (sql: string, params: unknown[]) => Promise<unknown>): ApiKeyUsage {
  const config = { auth: { keyUsageFlushMs: 60_000 } } as AppConfig;
  return new ApiKeyUsage({ query } as unknown as DataSource, config);
}

describe('ApiKeyUsage', () => {
  it('writes every key used since the last flush in one statement, each with its latest use', async () => {
    const query = vi.fn((_sql: string, _params: unknown[]) => Promise.resolve([]));
    const u = usage(query);
    vi.useFakeTimers({ now: 1_000 });
    try {
      u.record('a');
      vi.setSystemTime(2_000);
      u.record('b');
      vi.setSystemTime(3_000);
      u.record('a');
    } finally {
      vi.useRealTimers();
    }
    await u.flush();
    expect(query).toHaveBeenCalledTimes(1);
    expect(query.mock.calls[0][1]).toEqual([
      ['a', 'b'],
      [new Date(3_000).toISOString(), new Date(2_000).toISOString()],
    ]);
  });

  it('writes nothing when no key was used', async () => {
    const query = vi.fn(() => Promise.resolve([]));
    await usage(query).flush();
    expect(query).not.toHaveBeenCalled();
  });

  it('keeps the uses of a failed write for the next flush, behind newer ones', async () => {
    const query = vi.fn((_sql: string, _params: unknown[]) => Promise.resolve([]));
    query.mockRejectedValueOnce(new Error('database down'));
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const u = usage(query);
    u.record('a');
    u.record('b');
    await u.flush();
    u.record('b');
    await u.flush();
    expect(query).toHaveBeenCalledTimes(2);
    const [ids] = query.mock.calls[1][1] as [string[]];
    expect([...ids].sort()).toEqual(['a', 'b']);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});
