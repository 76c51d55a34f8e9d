import type { ApiKeyType } from '@strata/contracts';

/** Who is calling: an API key, or Strata itself (jobs, bootstrap). */
export interface Principal {
  keyId: string | null;
  type: ApiKeyType | 'system';
}

export const SYSTEM: Principal = { keyId: null, type: 'system' };
