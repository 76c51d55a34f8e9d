import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { changeOwnPasswordSchema, loginSchema, type WhoAmIDto } from '@strata/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppException } from '../../common/errors/app.exception';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody } from '../../common/http/zod-route';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AuthFailures } from '../../common/guards/auth-failures';
import { rateLimited } from '../api-key/api-key.service';
import { clearSessionCookie, csrfTokenFor, isHttps, isSameOrigin, sessionSetCookie, sessionTokenOf } from './session-cookie';
import { SessionService, type SessionPrincipal } from './session.service';
import { UserService } from './user.service';

function whoAmI(principal: Principal, sessionToken: string | null): WhoAmIDto {
  const session = principal as Partial<SessionPrincipal>;
  if (principal.userId !== null) {
    return {
      kind: 'user',
      id: principal.userId,
      name: principal.name,
      role: principal.role,
      csrfToken: sessionToken === null ? null : csrfTokenFor(sessionToken),
      expiresAt: session.expiresAt?.toISOString() ?? null,
    };
  }
  return { kind: 'api_key', id: principal.keyId ?? '', name: principal.name, role: principal.role, csrfToken: null, expiresAt: null };
}

/** Login CSRF: another site must not sign a visitor in to an account of its choosing (checked before the body is read). */
function sameOriginOnly(request: FastifyRequest): void {
  if (!isSameOrigin(request))
    throw new AppException('csrf_failed', 'Sign in from Strata’s own pages (this request came from another site).');
}

/** Sign-in with e-mail and password (a session cookie), who am I, sign-out, change my password. */
@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly users: UserService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly failures: AuthFailures,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @ZodBody(loginSchema, { before: sameOriginOnly }) { email, password }: z.output<typeof loginSchema>,
  ): Promise<WhoAmIDto> {
    const { token, principal } = await this.sessions.login(email, password, request.ip, request.headers['user-agent']);
    void reply.header(
      'set-cookie',
      sessionSetCookie(token, Math.floor(this.config.auth.sessionMaxMs / 1000), isHttps(request, this.config.auth.cookieSecure)),
    );
    return whoAmI(principal, token);
  }

  @Get('me')
  @Auth('any')
  me(@Req() request: FastifyRequest, @CurrentPrincipal() principal: Principal): WhoAmIDto {
    return whoAmI(principal, principal.sessionId === null ? null : sessionTokenOf(request.headers.cookie));
  }

  /** Ends this session (for an API key, nothing to end) and clears the cookie. */
  @Post('logout')
  @HttpCode(204)
  @Auth('any')
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    if (principal.sessionId !== null) await this.sessions.logout(principal.sessionId);
    void reply.header('set-cookie', clearSessionCookie(isHttps(request, this.config.auth.cookieSecure)));
  }

  /** A signed-in person changes their own password; their other sessions end. */
  @Post('password')
  @HttpCode(204)
  @Auth('any')
  async changePassword(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @ZodBody(changeOwnPasswordSchema) body: z.output<typeof changeOwnPasswordSchema>,
  ): Promise<void> {
    const { currentPassword, password } = body;
    // A stolen session must not become a way to guess the password: wrong ones count as failed sign-ins.
    const wait = this.failures.retryAfter(request.ip);
    if (wait > 0) throw rateLimited(wait);
    try {
      await this.users.changeOwnPassword(principal, currentPassword, password);
    } catch (error) {
      if (error instanceof AppException && error.code === 'invalid_credentials') {
        const after = this.failures.fail(request.ip);
        if (after > 0) throw rateLimited(after);
      }
      throw error;
    }
  }
}
