import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderError } from '../errors/render-error';
import { sendSpaFallback } from '../http/spa-fallback';
import { JSON_CONTENT_TYPE } from '../http/content-types';


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
    // Headers a handler set for its success body (a text/plain or CSV type, an attachment name)
    // must not describe the JSON error: with a non-JSON type Fastify refuses to send the object.
    reply.removeHeader('content-disposition');
    // The body is still arriving (a streamed import that stopped early, a guard refusing one):
    // close the connection after this answer, as Fastify does for its own 413, and discard the
    // rest meanwhile. Kept open, the socket would wait on a body nobody reads: the next request on
    // it gets no answer and app.close() waits for it. (`complete` is undefined under inject().)
    if (request.raw.complete === false) {
      void reply.header('connection', 'close');
      if (!request.raw.destroyed) request.raw.resume();
    }
    void reply.headers(rendered.headers).type(JSON_CONTENT_TYPE).status(rendered.status).send(rendered.body);
  }
}
