import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { ApiKeyService } from '../../modules/api-key/api-key.service';
import { AUTH_SCOPE, type AuthScope } from './auth.decorator';
import type { Principal } from './principal';

/** Checks `Authorization: Bearer <key>` against the in-memory key map: 401 without a valid key, 403 with the wrong kind. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.getAllAndOverride<AuthScope | undefined>(AUTH_SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppException('unauthorized');
    const key = this.keys.authenticate(match[1]);
    if (!key) throw new AppException('unauthorized', 'The API key is not valid or has been revoked.');
    if (scope === 'admin' && key.type !== 'admin') {
      throw new AppException('forbidden', `This endpoint needs an admin key; this is a ${key.type} key.`);
    }
    request.principal = { keyId: key.id, type: key.type };
    return true;
  }
}
