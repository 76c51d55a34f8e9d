import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Security headers on every response (helmet): for Fastify's routes through @fastify/helmet, for the
 * fast routes (fast-routes.ts) as the same headers computed once from the same options.
 *
 * The dashboard is a Vite build: its scripts and styles are files of its own origin, and it calls
 * only its own API, so the policy is 'self' throughout. Styles also allow 'unsafe-inline', which the
 * OpenAPI page (/docs, Swagger UI) needs for its inline <style>; images allow data: URIs (Swagger
 * UI's icons). No page may frame ours (frame-ancestors 'none', clickjacking), no response is
 * MIME-sniffed, and no Referer leaves the site.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
  // The SDK routes are read cross-origin by browser apps (CORS); a same-origin resource policy adds nothing there.
  crossOriginResourcePolicy: false,
};

/** The headers helmet sets with HELMET_OPTIONS, lower-case names (helmet's output does not depend on the request). */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return headers;
}
