import { existsSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Says at the very end of a run, after the summary, when browser tests were skipped because Chromium
 * is missing — with the command that fixes it — instead of leaving a quiet "skipped" count.
 * (Under CI=true those tests fail instead: apps/dashboard/e2e/browser.ts.)
 */
export default class MissingChromiumReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const chromium = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
    if (existsSync(chromium)) return;
    let skipped = 0;
    for (const module of testModules) {
      if (module.project.name !== 'e2e') continue;
      for (const test of module.children.allTests()) if (test.result().state === 'skipped') skipped++;
    }
    if (skipped === 0) return;
    const line = `  ${skipped} browser test(s) did NOT run: Chromium is missing at ${chromium}. Install it: apt-get install -y chromium  `;
    const bar = '!'.repeat(line.length);
    process.stdout.write(`\n\x1b[1;33m${bar}\n${line}\n${bar}\x1b[0m\n\n`);
  }
}
