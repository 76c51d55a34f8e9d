/**
 * Compile-time check, never imported (not in the bundle or the published declarations): the SDK
 * redeclares its public types so that its declarations stand alone and it never pulls zod; this
 * file makes `npm run lint` (tsc) fail when a copy drifts from the contracts' type.
 */
import type * as Contracts from '@strata/contracts';
import type * as Sdk from './types';

/** True only when A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Holds<T extends true> = T;

export type ContractCopies = [
  Holds<Same<Sdk.AttributeValue, Contracts.AttributeValue>>,
  Holds<Same<Sdk.Attributes, Contracts.Attributes>>,
  Holds<Same<Sdk.ValueType, Contracts.ValueType>>,
  Holds<Same<Sdk.JsonValue, Contracts.JsonValue>>,
  Holds<Same<Sdk.VariantValue, Contracts.VariantValue>>,
  Holds<Same<Sdk.Assignment, Contracts.Assignment>>,
  // What the SDK sends is what the API's event schema accepts.
  Holds<Sdk.WireEvent extends Contracts.EventInput ? true : false>,
];
