import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ROLE_CAN, type Role } from '@strata/contracts';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { ApiKeyService } from '../../modules/api-key/api-key.service';
import { SessionService } from '../../modules/user/session.service';
import { csrfTokenMatches, CSRF_HEADER, isSameOrigin, sessionTokenOf } from '../../modules/user/session-cookie';
import { AUTH_SCOPE, CI_ALLOWED, type AuthScope } from './auth.decorator';
import { CI_ONLY, SDK_ONLY } from './ci-only';
import { keyPrincipal, type Principal } from './principal';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates every route marked with @Auth, two ways:
 * - machines: `Authorization: Bearer <key>` against the in-memory key map (no query). SDK keys
 *   reach only `sdk`/`any` routes; a `ci` key only routes marked @CiAllowed; an admin key reaches everything.
 * - people: the session cookie (SessionService, one indexed query), with the CSRF token header on
 *   every unsafe method, and the person's role checked against the route's scope.
 * A request with an Authorization header is judged by its key alone, even if it carries a cookie.
 * 401 without valid credentials (429 after too many failures from one address), 403 with too little right.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly sessions: SessionService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<AuthScope | undefined>(AUTH_SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const key = this.keys.authenticateBearer(authorization, request.ip);
      if (key.type === 'ci') {
        if (this.reflector.get<boolean | undefined>(CI_ALLOWED, context.getHandler()) !== true) throw CI_ONLY;
      } else if (scope !== 'sdk' && scope !== 'any' && key.type !== 'admin') {
        throw new AppException('forbidden', `This endpoint needs an admin key or a signed-in person; this is a ${key.type} key.`);
      }
      request.principal = keyPrincipal(key);
      return true;
    }
    const token = sessionTokenOf(request.headers.cookie);
    if (token === null) throw new AppException('unauthorized');
    if (scope === 'sdk') throw SDK_ONLY;
    return this.sessions.authenticate(token).then((principal) => {
      if (principal === null)
        throw new AppException('unauthorized', 'Your session has ended (signed out, expired or idle too long): sign in again.');
      if (!SAFE_METHODS.has(request.method) && (!csrfTokenMatches(token, request.headers[CSRF_HEADER]) || !isSameOrigin(request))) {
        throw new AppException('csrf_failed');
      }
      if (scope !== 'any' && !ROLE_CAN[principal.role][scope]) throw forbiddenFor(principal.role, scope);
      request.principal = principal;
      return true;
    });
  }
}

function forbiddenFor(role: Role, scope: 'read' | 'write' | 'admin'): AppException {
  const needs = scope === 'admin' ? 'the admin role' : 'the experimenter or admin role';
  return new AppException('forbidden', `This needs ${needs}; you are signed in as ${role === 'experimenter' ? 'an' : 'a'} ${role}.`, [
    { path: '', message: `role ${role} may not ${scope}`, role, needs: scope },
  ]);
}
