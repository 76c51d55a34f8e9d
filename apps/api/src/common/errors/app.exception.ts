import { ERROR_CODES, type ErrorCode, type ErrorDetail } from '@strata/contracts';

/**
 * The one exception type the API throws on purpose. Feature modules subclass it (or call
 * it directly) with a registry code; the global filter renders it in the error shape.
 */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.status = ERROR_CODES[code].status;
  }
}

export class NotFoundException extends AppException {
  constructor(entity: string, key: string) {
    super('not_found', `${entity} "${key}" was not found.`, [{ path: '', message: `no ${entity} with key "${key}"`, entity, key }]);
  }
}

export class AlreadyExistsException extends AppException {
  constructor(entity: string, key: string) {
    super('already_exists', `${/^[aeiou]/i.test(entity) ? 'An' : 'A'} ${entity} with key "${key}" already exists.`, [
      { path: 'key', message: 'already exists' },
    ]);
  }
}
