import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { endpoints, type Endpoints } from '../api/endpoints';

/** The admin key lives in sessionStorage: it survives reloads but not closing the tab. */
export const SESSION_KEY = 'strata.adminKey';

interface Session {
  key: string | null;
  api: Endpoints | null;
  signIn(key: string): void;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

function readStoredKey(): string | null {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

export function SessionProvider({ children, baseUrl = '' }: { children: ReactNode; baseUrl?: string }) {
  const [key, setKey] = useState<string | null>(readStoredKey);
  const signIn = useCallback((k: string) => {
    sessionStorage.setItem(SESSION_KEY, k);
    setKey(k);
  }, []);
  const signOut = useCallback(() => {
    sessionStorage.removeItem(SESSION_KEY);
    setKey(null);
  }, []);
  const api = useMemo(() => (key ? endpoints(new ApiClient(key, baseUrl)) : null), [key, baseUrl]);
  const value = useMemo(() => ({ key, api, signIn, signOut }), [key, api, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession must be used inside <SessionProvider>');
  return s;
}

/** The typed API of the signed-in admin; only rendered below the sign-in gate. */
export function useApi(): Endpoints {
  const { api } = useSession();
  if (!api) throw new Error('useApi needs a signed-in session');
  return api;
}

/**
 * Checks a key with the cheapest admin call (GET /v1/layers?limit=1) and says why it
 * was refused, in words a person can act on.
 */
export async function verifyAdminKey(key: string, baseUrl = ''): Promise<string | null> {
  try {
    await endpoints(new ApiClient(key, baseUrl)).layers.list({ limit: 1 });
    return null;
  } catch (e) {
    if (e instanceof ApiError) {
      if (e.status === 401) return 'That key was not accepted. Check that you copied the whole admin key and that it has not been revoked.';
      if (e.status === 403) return 'That key is not an admin key. SDK keys cannot use the dashboard; sign in with an admin key.';
      return e.message;
    }
    return 'Could not reach the Strata API.';
  }
}
