import { AlreadyExistsException } from './app.exception';

/*
 * What a PostgreSQL (or pg driver) error means for the caller, in one place: the renderer maps
 * these to 409 / 503, the services and the collector's writer decide by them.
 */

/** SQLSTATE of a unique (or primary key) violation. */
const UNIQUE_VIOLATION = '23505';
/** SQLSTATE of a foreign-key violation. */
const FOREIGN_KEY_VIOLATION = '23503';
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === UNIQUE_VIOLATION;
}

/** A write naming a row deleted at the same moment (e.g. an experiment created while its layer is deleted). */
export function isForeignKeyViolation(error: unknown): boolean {
  return codeOf(error) === FOREIGN_KEY_VIOLATION;
}

/**
 * The database is unavailable, not the request wrong: a lost or refused connection, the server
 * shutting down (57P*), out of resources or connections (53*), or no pooled connection free
 * within the pool's timeout (every connection busy under load). Answered 503 with Retry-After.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code.startsWith('53')) return true;
  const message = (error as { message?: unknown } | null)?.message;
  return (
    typeof message === 'string' &&
    /Connection terminated|not queryable|Client has encountered a connection error|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(message)
  );
}

/**
 * Runs a create (a whole transaction that INSERTs the row) and answers a duplicate key with the
 * 409 `already_exists`. The unique index is the only check that holds under concurrency: two
 * requests can both find no row, and then the loser's INSERT fails here instead of with a 500.
 */
export async function createWithUniqueKey<T>(entity: string, key: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExistsException(entity, key);
    throw error;
  }
}
