import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderError } from '../errors/render-error';
import { sendSpaFallback } from '../http/spa-fallback';

/** One global filter: every error leaves as `{ "error": { "code", "message", "details" } }`. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  constructor(private readonly dashboardDir: string | null) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const rendered = renderError(exception, request.id);
    if (rendered.status === 404 && rendered.body.error.code === 'route_not_found' && this.dashboardDir) {
      if (sendSpaFallback(request, reply, this.dashboardDir)) return;
    }
    if (rendered.unexpected) {
      this.logger.error({ requestId: request.id, err: exception instanceof Error ? exception.stack : String(exception) });
    }
    if (reply.sent) return;
    void reply.headers(rendered.headers).status(rendered.status).send(rendered.body);
  }
}
