import { ROLE_CAN, type Role, type WhoAmIDto } from '@strata/contracts';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { endpoints, type Endpoints } from '../api/endpoints';

/** An admin key (the automation/dev path) lives in sessionStorage: it survives reloads but not closing the tab. */
export const SESSION_KEY = 'strata.adminKey';

/** Who is signed in, as the top bar shows it. */
export interface SignedInAs {
  kind: 'user' | 'api_key';
  name: string;
  role: Role;
}

type State =
  | { status: 'checking' }
  | { status: 'signed-out' }
  | { status: 'key'; key: string }
  | { status: 'person'; me: WhoAmIDto & { role: Role; csrfToken: string } };

interface Session {
  /** `checking` while the page asks the server whether a session cookie is still good. */
  status: 'checking' | 'signed-out' | 'signed-in';
  /** The admin key, when signed in with one. */
  key: string | null;
  who: SignedInAs | null;
  /** What the signed-in role may do; the server enforces it, this hides what it would refuse. */
  can: { read: boolean; write: boolean; admin: boolean };
  api: Endpoints | null;
  /** Sign in with an admin API key (checked beforehand with verifyAdminKey). */
  signIn(key: string): void;
  /** Signed in with e-mail and password: the answer of POST /v1/auth/login. */
  signInPerson(me: WhoAmIDto): void;
  signOut(): void;
}

const NOTHING = { read: false, write: false, admin: false };
const SessionContext = createContext<Session | null>(null);

function readStoredKey(): string | null {
  try {
    return sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

function asPerson(me: WhoAmIDto): State {
  return me.kind === 'user' && me.role !== null && me.csrfToken !== null
    ? { status: 'person', me: { ...me, role: me.role, csrfToken: me.csrfToken } }
    : { status: 'signed-out' };
}

export function SessionProvider({ children, baseUrl = '' }: { children: ReactNode; baseUrl?: string }) {
  const [state, setState] = useState<State>(() => {
    const key = readStoredKey();
    return key ? { status: 'key', key } : { status: 'checking' };
  });

  // A session cookie (httpOnly: the page cannot see it) may still be good: ask the server once.
  useEffect(() => {
    if (state.status !== 'checking') return;
    let live = true;
    new ApiClient({ csrfToken: '' }, baseUrl)
      .request<WhoAmIDto>('GET', '/v1/auth/me')
      .then((me) => live && setState(asPerson(me)))
      .catch(() => live && setState({ status: 'signed-out' }));
    return () => {
      live = false;
    };
  }, [state.status, baseUrl]);

  const signIn = useCallback((k: string) => {
    sessionStorage.setItem(SESSION_KEY, k);
    setState({ status: 'key', key: k });
  }, []);
  const signInPerson = useCallback((me: WhoAmIDto) => setState(asPerson(me)), []);
  // A session that ended on the server (expired, idle, signed out elsewhere) shows the sign-in page.
  const ended = useCallback(() => setState({ status: 'signed-out' }), []);

  const api = useMemo(() => {
    if (state.status === 'key') return endpoints(new ApiClient({ key: state.key }, baseUrl));
    if (state.status === 'person') {
      const fetchImpl: typeof fetch = async (...args) => {
        const res = await fetch(...args);
        if (res.status === 401) ended();
        return res;
      };
      return endpoints(new ApiClient({ csrfToken: state.me.csrfToken }, baseUrl, fetchImpl));
    }
    return null;
  }, [state, baseUrl, ended]);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(SESSION_KEY);
    if (state.status === 'person') void api?.auth.logout().catch(() => undefined);
    setState({ status: 'signed-out' });
  }, [state.status, api]);

  const value = useMemo((): Session => {
    const who: SignedInAs | null =
      state.status === 'key'
        ? { kind: 'api_key', name: 'Admin API key', role: 'admin' }
        : state.status === 'person'
          ? { kind: 'user', name: state.me.name, role: state.me.role }
          : null;
    return {
      status: state.status === 'key' || state.status === 'person' ? 'signed-in' : state.status,
      key: state.status === 'key' ? state.key : null,
      who,
      can: who ? ROLE_CAN[who.role] : NOTHING,
      api,
      signIn,
      signInPerson,
      signOut,
    };
  }, [state, api, signIn, signInPerson, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession must be used inside <SessionProvider>');
  return s;
}

/** The typed API of the signed-in person or key; only rendered below the sign-in gate. */
export function useApi(): Endpoints {
  const { api } = useSession();
  if (!api) throw new Error('useApi needs a signed-in session');
  return api;
}

/** What the signed-in role may do: `read` (everyone), `write` (experimenters, admins), `admin`. */
export function useCan(): Session['can'] {
  return useSession().can;
}

/**
 * Checks a key with the cheapest admin call (GET /v1/layers?limit=1) and says why it
 * was refused, in words a person can act on.
 */
export async function verifyAdminKey(key: string, baseUrl = ''): Promise<string | null> {
  try {
    await endpoints(new ApiClient({ key }, baseUrl)).layers.list({ limit: 1 });
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

/** POST /v1/auth/login: who signed in, or what to tell the person. */
export async function logIn(email: string, password: string, baseUrl = ''): Promise<{ me: WhoAmIDto } | { error: string }> {
  try {
    return {
      me: await new ApiClient({ csrfToken: '' }, baseUrl).request<WhoAmIDto>('POST', '/v1/auth/login', { body: { email, password } }),
    };
  } catch (e) {
    if (e instanceof ApiError) {
      if (e.status === 401) return { error: 'That e-mail and password do not match an active account.' };
      if (e.status === 429) return { error: e.message };
      if (e.status === 400) return { error: 'Enter your e-mail address and password.' };
      return { error: e.message };
    }
    return { error: 'Could not reach the Strata API.' };
  }
}
