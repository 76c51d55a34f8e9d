import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyType } from '@strata/contracts';

const PREFIXES: Record<ApiKeyType, string> = { admin: 'sk_admin_', 'sdk-server': 'sk_server_', 'sdk-client': 'pk_client_', ci: 'sk_ci_' };

export function generateSecret(type: ApiKeyType): string {
  return `${PREFIXES[type]}${randomBytes(24).toString('base64url')}`;
}

/** Keys are high-entropy random strings, so a plain SHA-256 is enough (no slow KDF needed). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, Math.min(secret.length, secret.indexOf('_', 3) + 5));
}
