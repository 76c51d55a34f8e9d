/**
 * @strata/sdk/react: a provider for one StrataClient and a `useVariant` hook. React is a peer
 * dependency. The hook re-renders when the configuration changes (local mode) or the unit's
 * assignments arrive (remote mode), and logs the exposure in an effect — after the variant was
 * actually rendered — never during render.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import type { StrataClient } from '../client';
import type { Attributes } from '../types';

interface StrataContextValue {
  client: StrataClient;
  unitId: string | undefined;
  attributes: Attributes | undefined;
}

const StrataContext = createContext<StrataContextValue | null>(null);

export interface StrataProviderProps {
  client: StrataClient;
  /** Default unit for `useVariant` calls that pass none (e.g. the signed-in user's id). */
  unitId?: string;
  /** Default targeting attributes for `useVariant` calls that pass none. */
  attributes?: Attributes;
  children?: ReactNode;
}

export function StrataProvider({ client, unitId, attributes, children }: StrataProviderProps): ReactNode {
  const value = useMemo(() => ({ client, unitId, attributes }), [client, unitId, attributes]);
  return createElement(StrataContext.Provider, { value }, children);
}

/** The client of the nearest StrataProvider, or null outside one. */
export function useStrataClient(): StrataClient | null {
  return useContext(StrataContext)?.client ?? null;
}

const noop = (): void => undefined;

/**
 * The unit's variant key, or null (show the default): before the configuration is loaded, when
 * the unit is not in the experiment, outside a provider, or without a unit id.
 */
export function useVariant(experimentKey: string, unitId?: string, attributes?: Attributes): string | null {
  const ctx = useContext(StrataContext);
  const client = ctx?.client ?? null;
  const unit = unitId ?? ctx?.unitId;
  const attrs = attributes ?? ctx?.attributes;
  const attrsKey = attrs === undefined ? '' : JSON.stringify(attrs);

  const subscribe = useCallback((onChange: () => void) => (client === null ? noop : client.subscribe(onChange)), [client]);
  const read = (): string | null =>
    client === null || unit === undefined ? null : (client.getAssignment(experimentKey, unit, attrs)?.variant ?? null);
  const variant = useSyncExternalStore(subscribe, read, read);

  useEffect(() => {
    if (client === null || unit === undefined || variant === null) return;
    const assignment = client.getAssignment(experimentKey, unit, attrs);
    if (assignment !== null) client.logExposure(assignment, unit, attrs);
    // attrsKey stands for attrs: a new object with the same content must not log again.
  }, [client, experimentKey, unit, attrsKey, variant]);

  return variant;
}
