import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/web-sdk';
import type { StrataClient } from '../client';
import type { StrataClientOptions } from '../types';
import { clientFrom, exposureHook, releaseClient, toDetails, type StrataProviderOptions } from './provider-base';
import { contextAttributes, resolveSync, trackEvent } from './resolve';

export type { StrataProviderOptions } from './provider-base';

/**
 * OpenFeature provider for `@openfeature/web-sdk` (static context: one user per page), with an
 * `sdk-client` key. `mode: 'local'` (default) downloads the configuration and evaluates in the
 * page; `mode: 'remote'` asks `POST /v1/assign` once per context (on initialize and on each
 * context change; the SDK shows the reconciling state meanwhile) and answers from that reply.
 * Evaluations are synchronous, as the web SDK requires.
 */
export class StrataWebProvider implements Provider {
  readonly metadata = { name: 'strata' } as const;
  readonly runsOn = 'client';
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

  async initialize(context: EvaluationContext = {}): Promise<void> {
    this.unsubscribe ??= this.client.subscribe(() => {
      // Remote answers for the current context come through onContextChange; only new snapshots are configuration changes.
      if (this.client.mode === 'remote') return;
      if (!this.ready && this.client.isReady()) {
        this.ready = true;
        this.events.emit(ProviderEvents.Ready);
      } else this.events.emit(ProviderEvents.ConfigurationChanged);
    });
    if (!(await this.load(context))) throw new Error('Strata: no configuration (or no answer for this unit) within the timeout');
    this.ready = true;
  }

  /** Remote mode: loads the new unit's assignments before the SDK leaves its reconciling state. */
  async onContextChange(_old: EvaluationContext, next: EvaluationContext): Promise<void> {
    if (!(await this.load(next))) throw new Error('Strata: no answer for the new context within the timeout');
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await releaseClient(this.client, this.owned);
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): ResolutionDetails<boolean> {
    return toDetails(resolveSync(this.client, flagKey, 'boolean', defaultValue, context));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): ResolutionDetails<string> {
    return toDetails(resolveSync(this.client, flagKey, 'string', defaultValue, context));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): ResolutionDetails<number> {
    return toDetails(resolveSync(this.client, flagKey, 'number', defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    return toDetails(resolveSync(this.client, flagKey, 'object', defaultValue, context));
  }

  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void {
    trackEvent(this.client, trackingEventName, context, details);
  }

  private async load(context: EvaluationContext): Promise<boolean> {
    if (this.client.mode !== 'remote') return this.client.ready();
    const unitId = context.targetingKey;
    // No unit yet: nothing to load; evaluations answer TARGETING_KEY_MISSING until a context has one.
    if (typeof unitId !== 'string' || unitId === '') return true;
    const found = await this.client.lookupAsync('', unitId, contextAttributes(context));
    return found.status !== 'not_ready';
  }
}
