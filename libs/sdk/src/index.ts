/**
 * @strata/sdk: assign units to Strata experiments (locally from the configuration snapshot, or
 * remotely) and send exposures and metric events to the collector. Runs in Node ≥ 18 and browsers:
 * global fetch, no Node-only imports, only types from @strata/contracts (no zod in the bundle).
 */
export { createClient, StrataClient } from './client';
export {
  StrataError,
  type Assignment,
  type AttributeValue,
  type Attributes,
  type JsonValue,
  type Lookup,
  type ValueType,
  type VariantValue,
  type StrataClientOptions,
  type StrataErrorKind,
  type StrataStats,
  type WireEvent,
} from './types';
