import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from './principal';

/**
 * Who may call a route:
 * - `sdk`: assignment and collection: any API key (SDK keys, and admin keys too); not a session.
 * - `any`: anyone authenticated (any key or session), e.g. `GET /v1/auth/me`.
 * - `read`: reading configuration and results: every signed-in role, and admin keys.
 * - `write`: changing experiments, layers and metrics: experimenters and admins, and admin keys.
 * - `admin`: API keys, users, event imports: admins and admin keys.
 */
export type AuthScope = 'sdk' | 'any' | 'read' | 'write' | 'admin';
export const AUTH_SCOPE = 'strata:auth-scope';

export const Auth = (scope: AuthScope): MethodDecorator & ClassDecorator => SetMetadata(AUTH_SCOPE, scope);

export const CI_ALLOWED = 'strata:ci-allowed';
/**
 * Also open to `ci` keys (deployment pipelines), which reach nothing else: reading an
 * experiment's state and its rollout, and advancing, pausing, resuming or reverting the rollout.
 */
export const CiAllowed = (): MethodDecorator => SetMetadata(CI_ALLOWED, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!request.principal) throw new Error('CurrentPrincipal used on a route without @Auth');
  return request.principal;
});
