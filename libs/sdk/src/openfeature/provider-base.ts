import type { EvaluationContext, FlagMetadata } from '@openfeature/core';
import { createClient, type StrataClient } from '../client';
import type { StrataClientOptions } from '../types';
import { contextAttributes, exposureOf, trackEvent } from './resolve';

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
      if (exposure === null || typeof unitId !== 'string') return;
      client.logExposure(exposure, unitId, contextAttributes(hookContext.context));
    },
  };
}

export const contextAttributesOf = contextAttributes;

export function track(client: StrataClient, name: string, context: EvaluationContext, details: Record<string, unknown> | undefined): void {
  trackEvent(client, name, context, details);
}
