import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('index.html', () => {
  it('declares a favicon that ships in public/, so no page load asks for a missing /favicon.ico', () => {
    const doc = new DOMParser().parseFromString(readFileSync(join(root, 'index.html'), 'utf8'), 'text/html');
    const icon = doc.querySelector('link[rel="icon"]');
    expect(icon?.getAttribute('type')).toBe('image/svg+xml');
    const href = icon?.getAttribute('href') ?? '';
    expect(href).toMatch(/^\/[\w-]+\.svg$/);
    const file = join(root, 'public', href.slice(1));
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
});
