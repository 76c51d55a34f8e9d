import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, it } from 'vitest';

/** Debian's Chromium; CI installs it with apt. */
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const CHROMIUM_MISSING = `Chromium is missing at ${CHROMIUM}, so the browser tests cannot run. Install it: apt-get install -y chromium (or set STRATA_CHROMIUM to a Chromium binary).`;

/**
 * A browser suite: without Chromium it is skipped locally — and the run's summary says so, with the
 * install command (missing-chromium.reporter.mts) — and fails under CI=true, where a skipped
 * browser suite would pass unnoticed.
 */
export function describeInBrowser(name: string, suite: () => void): void {
  if (hasChromium) describe(name, suite);
  else if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('has a Chromium to run in', () => {
        throw new Error(CHROMIUM_MISSING);
      });
    });
  } else describe.skip(`${name} [skipped: Chromium missing — apt-get install -y chromium]`, suite);
}

export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard', import.meta.url));

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Full-page screenshot under test-artifacts/dashboard/ (gitignored). */
export async function snap(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
