import type { AnalysisDefinition } from '../result/analysis-definition';
import type { SliceStats } from './stats-store';

/** One experiment a tick changed, with its statistics right after the tick. */
export interface ChangedExperiment {
  definition: AnalysisDefinition;
  /** The whole-experiment slice (dim ''): units per variant and every metric's per-variant sums. */
  stats: SliceStats;
}

export interface TickContext {
  /** Events received up to this time are in the statistics. */
  dataThrough: Date;
  /** Every experiment whose statistics this tick changed (rebuilt ones included), in key order. */
  changed: ChangedExperiment[];
}

/**
 * A per-tick consumer: called after every tick that changed statistics, once per tick, with
 * the changed experiments and their fresh statistics (never for an idle tick). Consumers run
 * one after another, outside the tick's transaction and after its commit, in a chain of their
 * own so a slow consumer (a webhook) never delays the next tick or a results read.
 *
 * Today: the guardrail and SRM checks (GuardrailService), then progressive rollouts
 * (RolloutService: advance or revert a plan's step on the same statistics, docs/rollouts.md). Next: sequential SRM
 * (Dirichlet-multinomial e-value) and persisted monotone sequential state (running minimum
 * p-value, running intersection of confidence sequences) per experiment × metric × variant ×
 * analysis configuration, kept in `analysis_sequential_state` (migration 1764100000000): a
 * consumer reads its previous state for the changed experiments, folds in the fresh statistics
 * and writes it back in one statement.
 */
export interface TickConsumer {
  readonly name: string;
  onTick(tick: TickContext): Promise<void>;
  /**
   * A check of everything the consumer watches, for findings that need no new statistics (a
   * rollout step's minimum duration running out, auto-stop switched on): while jobs run, the
   * engine calls it every `sweepSeconds` (default: the tick interval).
   */
  sweep?(): Promise<unknown>;
  readonly sweepSeconds?: number;
}
