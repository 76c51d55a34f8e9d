import { humanIssueMessage, type ErrorDetail } from '@strata/contracts';
import type { z } from 'zod';
import { AppException } from '../errors/app.exception';

export function zodIssuesToDetails(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[] = []): ErrorDetail[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}

/** Parses with a zod schema; failures become 400 `validation_failed` naming each bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? (what === 'body' ? undefined : {}), { error: humanIssueMessage });
  if (!result.success) {
    const details = zodIssuesToDetails(result.error.issues);
    throw new AppException('validation_failed', `The request ${what} is not valid: ${details.map((d) => `${d.path || what}: ${d.message}`).join('; ')}`, details);
  }
  return result.data;
}
