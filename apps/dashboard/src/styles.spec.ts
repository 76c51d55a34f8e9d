import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffRows } from './pages/AuditPage';

const css = readFileSync(join(__dirname, 'styles.css'), 'utf8');

/** WCAG 2.x contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
const token = (name: string): string => {
  const m = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css);
  if (!m?.[1]) throw new Error(`no --${name} in styles.css`);
  return m[1];
};

describe('stylesheet contrast', () => {
  it('the "healthy" badge text (--ok on --ok-soft) reaches 4.5:1', () => {
    expect(contrast(token('ok'), token('ok-soft'))).toBeGreaterThanOrEqual(4.5);
    expect(contrast(token('ok'), token('surface'))).toBeGreaterThanOrEqual(4.5);
  });

  it('the focus ring reaches 3:1 against the page and the cards', () => {
    expect(css).toMatch(/:focus-visible \{\s*outline: 3px solid var\(--focus\)/);
    expect(contrast(token('focus'), token('bg'))).toBeGreaterThanOrEqual(3);
    expect(contrast(token('focus'), token('surface'))).toBeGreaterThanOrEqual(3);
  });

  it('keeps the selected Sequential / Fixed option dark on hover (not white on light grey)', () => {
    expect(css).toMatch(/\.switch button\[aria-pressed='true'\]:hover:not\(:disabled\) \{\s*background: var\(--primary-hover\);/);
  });
});

describe('number formatting', () => {
  it('shows numbers in the audit diff with thousands separators', () => {
    expect(diffRows({ plannedSampleSize: 221210 }, { plannedSampleSize: 1500000 })[0]).toMatchObject({
      before: '221,210',
      after: '1,500,000',
    });
  });
});
