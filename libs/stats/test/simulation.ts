import type { ArmStats, Rng } from '../src';
import { createRng } from '../src';

/** Accumulates normal draws into sufficient statistics, peek by peek, without storing raw data. */
export class RunningArm implements ArmStats {
  n = 0;
  sum = 0;
  sumSq = 0;
  add(y: number): void {
    this.n += 1;
    this.sum += y;
    this.sumSq += y * y;
  }
}

/** Sample sizes per arm at which the simulated analyst looks: peeks evenly spaced up to `end`. */
export function peekSchedule(end: number, peeks: number): number[] {
  return Array.from({ length: peeks }, (_, k) => Math.ceil(((k + 1) * end) / peeks));
}

export interface SimulatedMethod {
  name: string;
  /** True when this read declares significance. */
  rejects(control: ArmStats, treatment: ArmStats): boolean;
}

/** One unit's outcome per arm. */
export interface ArmDraws {
  control(rng: Rng): number;
  treatment(rng: Rng): number;
}

/** Normal outcomes N(mean, sd²). */
export function normalArms(controlMean: number, treatmentMean: number, sd: number): ArmDraws {
  return { control: (rng) => controlMean + sd * rng.normal(), treatment: (rng) => treatmentMean + sd * rng.normal() };
}

/** Conversions: 1 with the arm's rate, else 0. */
export function bernoulliArms(controlRate: number, treatmentRate: number): ArmDraws {
  return { control: (rng) => (rng.uniform() < controlRate ? 1 : 0), treatment: (rng) => (rng.uniform() < treatmentRate ? 1 : 0) };
}

/**
 * Runs `experiments` independent two-arm experiments, looks at every scheduled peek, and returns
 * each method's share of experiments that declared significance at any peek (the "ever rejected"
 * rate a daily-peeking PM experiences).
 */
export function everRejectRate(
  seed: number,
  experiments: number,
  schedule: number[],
  arms: ArmDraws,
  methods: SimulatedMethod[],
): Record<string, number> {
  const rng = createRng(seed);
  const hits = new Map(methods.map((m) => [m.name, 0]));
  for (let e = 0; e < experiments; e++) {
    const control = new RunningArm();
    const treatment = new RunningArm();
    const rejected = new Set<string>();
    for (const n of schedule) {
      while (control.n < n) control.add(arms.control(rng));
      while (treatment.n < n) treatment.add(arms.treatment(rng));
      for (const m of methods) if (!rejected.has(m.name) && m.rejects(control, treatment)) rejected.add(m.name);
      if (rejected.size === methods.length) break;
    }
    for (const name of rejected) hits.set(name, (hits.get(name) ?? 0) + 1);
  }
  return Object.fromEntries([...hits].map(([k, v]) => [k, v / experiments]));
}
