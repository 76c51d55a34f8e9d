import { z } from 'zod';
import { storable } from './text';

// ---------- People, roles and sessions ----------

/**
 * What a signed-in person may do. `viewer`: read everything but keys and users; `experimenter`:
 * also create, edit, start, stop, ramp and ship experiments, layers and metrics (anyone's);
 * `admin`: also API keys, users and event imports. An admin API key acts as `admin`.
 */
export const ROLES = ['viewer', 'experimenter', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do, for the dashboard to hide what the server would refuse. */
export const ROLE_CAN = {
  viewer: { read: true, write: false, admin: false },
  experimenter: { read: true, write: true, admin: false },
  admin: { read: true, write: true, admin: true },
} as const satisfies Record<Role, { read: boolean; write: boolean; admin: boolean }>;

export const PASSWORD_MIN_LENGTH = 12;
/** Bounds the work of hashing; a passphrase of 256 characters is plenty. */
export const PASSWORD_MAX_LENGTH = 256;

export const emailSchema = storable(
  z
    .string()
    .trim()
    .max(254)
    .toLowerCase()
    // Deliberately loose (one @, a dot in the domain, no spaces): the address is an identifier here, not a mailbox we write to.
    .regex(/^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/, 'must be an e-mail address'),
);

export const passwordSchema = storable(
  z
    .string()
    .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
);

export const loginSchema = z
  .object({
    email: z.string().max(254),
    // Not the policy: a login only compares, and must not tell which rule a wrong password broke.
    password: z.string().max(PASSWORD_MAX_LENGTH),
  })
  .strict();
export type LoginRequest = z.infer<typeof loginSchema>;

export const createUserSchema = z.object({ email: emailSchema, role: z.enum(ROLES), password: passwordSchema }).strict();
export type CreateUserRequest = z.infer<typeof createUserSchema>;

export const updateUserSchema = z
  .object({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((v) => v.role !== undefined || v.disabled !== undefined, 'give "role" or "disabled"');
export type UpdateUserRequest = z.infer<typeof updateUserSchema>;

export const setPasswordSchema = z.object({ password: passwordSchema }).strict();
export const changeOwnPasswordSchema = z
  .object({ currentPassword: z.string().max(PASSWORD_MAX_LENGTH), password: passwordSchema })
  .strict();

export interface UserDto {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
}

/** Who the caller is (`GET /v1/auth/me`, and the answer to a login). */
export interface WhoAmIDto {
  kind: 'user' | 'api_key';
  /** The person's e-mail, or the key's name. */
  name: string;
  /** The user's or key's id. */
  id: string;
  /** The role the caller acts with: a person's role; `admin` for an admin key; null for SDK keys. */
  role: Role | null;
  /** Session callers: send this in `X-CSRF-Token` on every POST, PATCH, PUT and DELETE. */
  csrfToken: string | null;
  /** Session callers: when the session ends at the latest (idle timeout aside). */
  expiresAt: string | null;
}

/** Who made an audited change: a person, an API key (by name), or Strata itself. */
export interface AuditActorDto {
  kind: 'user' | 'api_key' | 'system';
  id: string | null;
  /** The person's e-mail or the key's name, as they were when the change was made. */
  name: string;
}
