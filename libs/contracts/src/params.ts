import { z } from 'zod';
import { keySchema } from './config';

/** Path parameters shared by routes, declared once. */
export const keyParamsSchema = z.object({ key: keySchema });
export type KeyParams = z.output<typeof keyParamsSchema>;

export const userIdParamsSchema = z.object({ id: z.uuid('must be a user id (uuid)') });
export type UserIdParams = z.output<typeof userIdParamsSchema>;

export const apiKeyIdParamsSchema = z.object({ id: z.uuid('must be an API key id (uuid)') });
export type ApiKeyIdParams = z.output<typeof apiKeyIdParamsSchema>;
