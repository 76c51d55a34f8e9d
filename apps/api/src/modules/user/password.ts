import { hash, verify } from '@node-rs/argon2';

/**
 * Passwords are hashed with argon2id (the library's default algorithm; `Algorithm` is a const enum,
 * so it is not named here) at OWASP's recommended cost (19 MiB, 2 passes, 1 lane): about 12 ms per
 * verify on this machine, off the event loop. `@node-rs/argon2` ships prebuilt binaries as optional
 * npm packages, so no install script or compiler is needed. password.spec.ts pins the parameters.
 */
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a hash that cannot be read (never throws on bad input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;

/**
 * A hash to verify against when no account has the e-mail, so an unknown address costs the same
 * hashing work as a known one with a wrong password: the answer's timing does not tell which exist.
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword('strata: no account has this e-mail');
  return dummy;
}
