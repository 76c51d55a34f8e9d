import type { ErrorCode, EvaluationContext, FlagMetadata, ResolutionDetails } from '@openfeature/core';
import { createClient, type StrataClient } from '../client';
import type { StrataClientOptions } from '../types';
import { contextAttributes, exposureOf, type NeutralDetails } from './resolve';

export interface StrataProviderOptions {
  /**
   * Log an exposure for each evaluation that bucketed the unit (through the provider's `after`
   * hook, deduplicated per experiment and unit like getVariant). Default true.
   */
  logExposures?: boolean;
}

/** The client a provider uses: one the app owns (the app closes it) or one made from options (the provider closes it on shutdown). */
export function clientFrom(source: StrataClient | StrataClientOptions): { client: StrataClient; owned: boolean } {
  if (typeof (source as StrataClient).lookup === 'function') return { client: source as StrataClient, owned: false };
  return { client: createClient(source as StrataClientOptions), owned: true };
}

/** The provider's hook: exposures for bucketed evaluations, with the context's attributes. */
export interface ExposureHook {
  after(
    hookContext: { flagKey: string; context: Readonly<EvaluationContext> },
    details: { variant?: string; flagMetadata: Readonly<FlagMetadata> },
  ): void;
}

export function exposureHook(client: StrataClient, enabled: boolean): ExposureHook {
  return {
    after(
      hookContext: { flagKey: string; context: Readonly<EvaluationContext> },
      details: { variant?: string; flagMetadata: Readonly<FlagMetadata> },
    ) {
      if (!enabled) return;
      const exposure = exposureOf(hookContext.flagKey, details);
      const unitId = hookContext.context.targetingKey;
      if (typeof unitId !== 'string') return;
      // Holdout exposures whatever the outcome: a held-out unit resolves to the default, and counts.
      client.logHoldoutExposures(hookContext.flagKey, unitId, contextAttributes(hookContext.context));
      // A staged ship's comparison too: a unit not shipped to yet resolves to the default, and counts.
      client.logShipExposure(hookContext.flagKey, unitId, contextAttributes(hookContext.context));
      if (exposure === null) return;
      client.logExposure(exposure, unitId, contextAttributes(hookContext.context));
    },
  };
}

/**
 * Details in OpenFeature's shape (core's type, which both SDKs re-export). Core's ErrorCode is a
 * string enum whose values are its names, so Strata's codes are the values themselves.
 */
export function toDetails<T>(d: NeutralDetails<T>): ResolutionDetails<T> {
  const out: ResolutionDetails<T> = { value: d.value, reason: d.reason, flagMetadata: d.flagMetadata };
  if (d.variant !== undefined) out.variant = d.variant;
  if (d.errorCode !== undefined) out.errorCode = d.errorCode as ErrorCode;
  if (d.errorMessage !== undefined) out.errorMessage = d.errorMessage;
  return out;
}

/** A provider's close: ends a client it made, flushes one the app owns (the app closes that). */
export async function releaseClient(client: StrataClient, owned: boolean): Promise<void> {
  if (owned) await client.close();
  else await client.flush();
}
