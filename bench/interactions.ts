/**
 * Step 4 of an interaction refresh (docs/analysis.md, "Interaction checks across layers"): the
 * tests and one BH correction over every pair, in Node, from per-(pair, arm, arm) cells as the
 * join writes them. 2 × 2 arms, both directions per pair. The join itself (step 3) is
 * Σ_units k(k−1)/2 rows, bounded by STRATA_INTERACTION_MAX_ROWS; not measured here.
 *
 *   npm run bench -- interactions      (BENCH_PAIRS=20000,200000 to choose the sizes)
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../libs/stats/src';
import { interactionRows, pairBound, type InteractionExperiment, type PairCell } from '../apps/api/src/modules/interaction/interaction-tests';

const sizes = (process.env.BENCH_PAIRS ?? '20000,200000').split(',').map(Number);
const u = mulberry32(17);

for (const pairs of sizes) {
  // Two layers of √pairs experiments each, every pair across them sharing ~500 units.
  const side = Math.ceil(Math.sqrt(pairs));
  const experiments: InteractionExperiment[] = [];
  for (const layer of ['l1', 'l2']) {
    for (let i = 0; i < side; i++) experiments.push({ key: `${layer}-${i}`, layer, arms: ['control', 'treatment'], metric: 'm', metricType: 'conversion', cap: null, rowsVersion: 1, units: 500 * side });
  }
  const cells: PairCell[] = [];
  let made = 0;
  for (let i = 0; i < side && made < pairs; i++) {
    for (let j = 0; j < side && made < pairs; j++, made++) {
      for (const armA of ['control', 'treatment']) {
        for (const armB of ['control', 'treatment']) {
          const n = 125;
          const s = Math.round(n * (0.3 + 0.05 * (u() - 0.5)));
          cells.push({ expA: `l1-${i}`, expB: `l2-${j}`, armA, armB, n, a: { sum: s, sumSq: s, sumDen: 0, sumDenSq: 0, sumNumDen: 0 }, b: { sum: s, sumSq: s, sumDen: 0, sumDenSq: 0, sumNumDen: 0 } });
        }
      }
    }
  }
  const t0 = performance.now();
  const bound = pairBound(experiments);
  const t1 = performance.now();
  const rows = interactionRows(experiments, cells, 0.05, 'bh');
  const t2 = performance.now();
  console.log(
    `pairs ${made}: experiments ${experiments.length}, candidate pairs ${bound.pairs}, tests ${rows.length}, flagged ${rows.filter((r) => r.flagged).length}; ` +
      `pair bound ${(t1 - t0).toFixed(0)} ms, tests + BH ${(t2 - t1).toFixed(0)} ms (${(((t2 - t1) / rows.length) * 1000).toFixed(2)} µs per test)`,
  );
}
