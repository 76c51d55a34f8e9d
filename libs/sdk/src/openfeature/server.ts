import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import type { StrataClient } from '../client';
import type { StrataClientOptions } from '../types';
import { clientFrom, exposureHook, releaseClient, toDetails, type StrataProviderOptions } from './provider-base';
import { resolveAsync, trackEvent } from './resolve';

export type { StrataProviderOptions } from './provider-base';

/**
 * OpenFeature provider for `@openfeature/server-sdk`: local evaluation from the Strata
 * configuration snapshot (a `local` client, polled with ETags), or remote with a `remote` client.
 * A flag key is an experiment key, `targetingKey` the unit id, the other context fields unit
 * attributes. Emits ConfigurationChanged when a new snapshot arrives (and Ready once the first
 * one does, if it was late). Tracking (`client.track`) sends Strata metric events.
 *
 * ```ts
 * await OpenFeature.setProviderAndWait(new StrataServerProvider({ apiUrl, sdkKey }));
 * const colour = await OpenFeature.getClient().getStringValue('button-colour', 'grey', { targetingKey: user.id, country: 'DE' });
 * ```
 */
export class StrataServerProvider implements Provider {
  readonly metadata = { name: 'strata' } as const;
  readonly runsOn = 'server';
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks: Hook[];
  readonly client: StrataClient;
  private readonly owned: boolean;
  private ready = false;
  private unsubscribe: (() => void) | null = null;

  constructor(source: StrataClient | StrataClientOptions, options: StrataProviderOptions = {}) {
    ({ client: this.client, owned: this.owned } = clientFrom(source));
    this.hooks = [exposureHook(this.client, options.logExposures ?? true)];
  }

  /** Resolves once the first snapshot is loaded; rejects (provider ERROR) if none came within the client's timeout — it emits Ready when one does. */
  async initialize(): Promise<void> {
    this.unsubscribe ??= this.client.subscribe(() => {
      if (!this.ready && this.client.isReady()) {
        this.ready = true;
        this.events.emit(ProviderEvents.Ready);
      } else this.events.emit(ProviderEvents.ConfigurationChanged);
    });
    if (await this.client.ready()) {
      this.ready = true;
      return;
    }
    throw new Error('Strata: no configuration within the timeout (still trying)');
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await releaseClient(this.client, this.owned);
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return toDetails(await resolveAsync(this.client, flagKey, 'boolean', defaultValue, context));
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return toDetails(await resolveAsync(this.client, flagKey, 'string', defaultValue, context));
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return toDetails(await resolveAsync(this.client, flagKey, 'number', defaultValue, context));
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return toDetails(await resolveAsync(this.client, flagKey, 'object', defaultValue, context));
  }

  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void {
    trackEvent(this.client, trackingEventName, context, details);
  }
}
