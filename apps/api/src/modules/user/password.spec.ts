import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password';

describe('passwords', () => {
  it('hashes with argon2id at OWASP cost (19 MiB, 2 passes, 1 lane), salted', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(a, 'correct horse battery stapl')).toBe(false);
  });

  it('answers false, never throws, for an unreadable hash; the dummy hash matches nothing given', async () => {
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(await dummyPasswordHash()).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(await dummyPasswordHash(), 'correct horse battery staple')).toBe(false);
  });
});
