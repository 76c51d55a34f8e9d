import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from './principal';

/** `admin`: management routes. `sdk`: assignment and collection (SDK keys, and admin keys too). */
export type AuthScope = 'admin' | 'sdk';
export const AUTH_SCOPE = 'strata:auth-scope';

export const Auth = (scope: AuthScope): MethodDecorator & ClassDecorator => SetMetadata(AUTH_SCOPE, scope);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!request.principal) throw new Error('CurrentPrincipal used on a route without @Auth');
  return request.principal;
});
