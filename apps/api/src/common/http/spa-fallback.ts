import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const API_PREFIXES = ['/v1', '/docs', '/health'];

/**
 * The dashboard is a single-page app: a browser GET for a client-side route (e.g.
 * /experiments/checkout) gets index.html. API paths keep their JSON 404.
 */
export function sendSpaFallback(request: FastifyRequest, reply: FastifyReply, dashboardDir: string): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0] ?? '';
  if (API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return false;
  if (/\.[a-z0-9]+$/i.test(path)) return false; // a missing asset is a real 404
  if (!(request.headers.accept ?? '').includes('text/html')) return false;
  const index = join(dashboardDir, 'index.html');
  if (!existsSync(index)) return false;
  void reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(createReadStream(index));
  return true;
}
