import type { ApiKeyType, Role } from '@strata/contracts';

/** Who is calling: an API key, a signed-in person, or Strata itself (jobs, bootstrap, the CLI). */
export interface Principal {
  /** The API key, when a key is calling. */
  keyId: string | null;
  type: ApiKeyType | 'user' | 'system';
  /** The person, when a signed-in person is calling. */
  userId: string | null;
  /** The person's session, so sign-out ends this one. */
  sessionId: string | null;
  /** For the audit log: the person's e-mail, the key's name, or what part of Strata acted. */
  name: string;
  /** The role the caller acts with: a person's role, `admin` for an admin key, null for SDK keys and the system. */
  role: Role | null;
}

export const SYSTEM: Principal = { keyId: null, type: 'system', userId: null, sessionId: null, name: 'system', role: null };

/** Strata acting on behalf of an operator at a shell (e.g. `npm run user`), named in the audit log. */
export function systemActor(name: string): Principal {
  return { ...SYSTEM, name };
}

export function keyPrincipal(key: { id: string; type: ApiKeyType; name: string }): Principal {
  return { keyId: key.id, type: key.type, userId: null, sessionId: null, name: key.name, role: key.type === 'admin' ? 'admin' : null };
}
