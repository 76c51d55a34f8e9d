import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/app-config';
import { parseCorsOrigins, SdkCors } from './sdk-cors';

describe('STRATA_CORS_ORIGINS', () => {
  it('is "*" by default, a list of origins, or empty for none', () => {
    expect(loadConfig({}).corsOrigins).toEqual(['*']);
    expect(loadConfig({ STRATA_CORS_ORIGINS: ' https://Shop.example , http://localhost:5173/ ' }).corsOrigins).toEqual([
      'https://shop.example',
      'http://localhost:5173',
    ]);
    expect(loadConfig({ STRATA_CORS_ORIGINS: '' }).corsOrigins).toEqual([]);
  });

  it('stops start-up on anything that is not an origin, naming the variable', () => {
    for (const bad of [
      'shop.example',
      'https://shop.example/path',
      'ftp://shop.example',
      '*, https://shop.example',
      'https://user@shop.example',
    ]) {
      expect(() => loadConfig({ STRATA_CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ STRATA_CORS_ORIGINS: bad }), bad).toThrow(/STRATA_CORS_ORIGINS/);
    }
    expect(parseCorsOrigins('https://a.example, nope')).toEqual({ error: 'not an origin (scheme://host[:port], no path): nope' });
  });
});

describe('SdkCors', () => {
  const any = new SdkCors(['*']);
  const listed = new SdkCors(['https://shop.example']);

  it('covers exactly the SDK routes, with or without a query string', () => {
    for (const url of ['/v1/sdk/config', '/v1/sdk/config?x=1', '/v1/assign', '/v1/assign/batch', '/v1/events'])
      expect(any.covers(url), url).toBe(true);
    for (const url of ['/v1/events/import', '/v1/events/stats', '/v1/experiments', '/v1/api-keys', '/v1/explain', '/v1/assign/', '/'])
      expect(any.covers(url), url).toBe(false);
  });

  it('answers any origin with "*" (no credentials, no Vary) when open', () => {
    expect(any.responseHeaders('/v1/assign', 'https://anywhere.example')).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'etag, retry-after, x-request-id',
    });
    expect(any.preflightHeaders('/v1/events', 'https://anywhere.example')).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type, if-none-match, x-request-id',
      'access-control-max-age': '7200',
    });
  });

  it('echoes a listed origin (any case) with Vary: Origin, and gives others nothing', () => {
    expect(listed.responseHeaders('/v1/events', 'https://SHOP.example')).toMatchObject({
      'access-control-allow-origin': 'https://SHOP.example',
      vary: 'Origin',
    });
    expect(listed.preflightHeaders('/v1/events', 'https://shop.example')).toMatchObject({
      'access-control-allow-origin': 'https://shop.example',
      vary: 'Origin',
    });
    expect(listed.responseHeaders('/v1/events', 'https://evil.example')).toBeNull();
    expect(listed.preflightHeaders('/v1/events', 'https://evil.example')).toBeNull();
    expect(new SdkCors([]).responseHeaders('/v1/events', 'https://shop.example')).toBeNull();
  });

  it('adds nothing without an Origin or outside the SDK routes', () => {
    expect(any.responseHeaders('/v1/assign', undefined)).toBeNull();
    expect(any.responseHeaders('/v1/experiments', 'https://shop.example')).toBeNull();
    expect(any.preflightHeaders('/v1/api-keys', 'https://shop.example')).toBeNull();
  });
});
