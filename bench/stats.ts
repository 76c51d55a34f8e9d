/**
 * Time to compute the full results table a dashboard read needs: 10 metrics × 5 variants, each
 * with CUPED, fixed-horizon (Welch + delta-method lift), asymptotic confidence sequences (absolute
 * and relative), mSPRT, and Benjamini–Hochberg with BH-consistent intervals.
 *
 *   npm run bench -- stats
 */
import { performance } from 'node:perf_hooks';
import { msprt, resultsTable, sequentialConfidenceSequence, srmTest, welchTTest } from '../libs/stats/src';
import { syntheticMetrics } from '../libs/stats/test/fixtures';

const METRICS = 10;
const VARIANTS = 5;
const metrics = syntheticMetrics(42, METRICS, VARIANTS, 2000);
const options = { plannedSampleSize: 5000, correction: 'benjamini-hochberg' as const };

/** Runs fn in batches until at least `minMs` has elapsed (after warm-up); returns µs per call. */
function measure(fn: () => unknown, minMs = 1000): { us: number; cpuUs: number; iterations: number } {
  for (let i = 0; i < 200; i++) fn();
  let iterations = 0;
  let kept = 0;
  // CPU time too: on a shared CI box wall time includes other processes' preemption.
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 50; i++) if (fn()) kept++;
    iterations += 50;
    elapsed = performance.now() - start;
  }
  // Keeps the results observable so the JIT cannot drop the work.
  if (kept !== iterations) throw new Error('benchmark function returned nothing');
  const cpu = process.cpuUsage(cpuStart);
  return { us: (elapsed * 1000) / iterations, cpuUs: (cpu.user + cpu.system) / iterations, iterations };
}

function report(label: string, fn: () => unknown): number {
  const { us, iterations } = measure(fn);
  console.log(`${label}: ${us.toFixed(2)} µs/call (${iterations} iterations)`);
  return us;
}

const table = resultsTable(metrics, options);
const cells = table.comparisons.length;
const detected = table.comparisons.filter((c) => c.sequential.relative.significant).length;
console.log(
  `inputs: ${cells} comparisons, CUPED variance reduction ${(100 * table.comparisons[0].cuped.varianceReduction).toFixed(0)}%, ` +
    `${detected} significant after BH (sequential, relative)`,
);

const tableUs = measure(() => resultsTable(metrics, options));
console.log(
  `results table (${METRICS} metrics x ${VARIANTS} variants, sequential+CUPED+BH): ${tableUs.us.toFixed(1)} µs/table ` +
    `(${tableUs.cpuUs.toFixed(1)} µs CPU; ${tableUs.iterations} iterations) = ${(tableUs.us / cells).toFixed(2)} µs/comparison; ` +
    `budget 1000 µs -> ${tableUs.us < 1000 ? 'OK' : 'OVER BUDGET'}`,
);

const c = metrics[0].control;
const t = metrics[0].variants[0].stats;
report('welchTTest', () => welchTTest(c, t));
report('sequentialConfidenceSequence', () => sequentialConfidenceSequence(c, t));
report('msprt', () => msprt(c, t));
report('srmTest (6 arms)', () => srmTest([2000, 2010, 1985, 2003, 1990, 2012], [1, 1, 1, 1, 1, 1]));
