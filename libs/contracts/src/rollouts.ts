import { z } from 'zod';
import { keySchema, trafficSchema } from './config';
import { storable } from './text';

/**
 * Progressive rollouts (issue 17): an ordered plan of traffic steps on a running experiment. The
 * analysis engine advances a step once its minimum duration and exposed units are met and its
 * guardrails (sequential harm test, anytime-valid SRM) are healthy; on harm or SRM it reverts.
 */

/** Where a revert takes the traffic: the last step that passed healthy, or 0 %. */
export const ROLLOUT_REVERT_TARGETS = ['last_safe', 'zero'] as const;
export type RolloutRevertTarget = (typeof ROLLOUT_REVERT_TARGETS)[number];

export const ROLLOUT_STATUSES = ['running', 'paused', 'reverted', 'completed'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** What a pipeline gates on (`npm run rollout -- status` exits 0 / 3 / 4). */
export const ROLLOUT_HEALTH = ['healthy', 'waiting', 'reverted'] as const;
export type RolloutHealth = (typeof ROLLOUT_HEALTH)[number];

export const ROLLOUT_ACTIONS = ['create', 'advance', 'complete', 'revert', 'pause', 'resume', 'skip', 'delete'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** At most this many steps in a plan; a step lasts at most 90 days. */
export const ROLLOUT_MAX_STEPS = 20;
export const ROLLOUT_MAX_STEP_SECONDS = 90 * 86_400;

export const rolloutStepSchema = z
  .object({
    /** Percent of the layer's buckets the experiment holds at this step. */
    traffic: trafficSchema.refine((t) => t > 0, 'a step must have traffic above 0'),
    /** The step lasts at least this long before the next one. */
    minDurationSeconds: z.number().int().min(0).max(ROLLOUT_MAX_STEP_SECONDS).default(0),
    /** Units first exposed while at this step, at least, before the next one. */
    minExposedUnits: z.number().int().min(0).max(1_000_000_000).default(0),
  })
  .strict();
export type RolloutStepInput = z.input<typeof rolloutStepSchema>;
export type RolloutStepDto = z.output<typeof rolloutStepSchema>;

export const createRolloutSchema = z
  .object({
    steps: z
      .array(rolloutStepSchema)
      .min(1)
      .max(ROLLOUT_MAX_STEPS)
      .superRefine((steps, ctx) => {
        for (let i = 1; i < steps.length; i++) {
          if (!(steps[i].traffic > steps[i - 1].traffic)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'traffic'],
              message: `must be above step ${i - 1}'s ${steps[i - 1].traffic}%: steps only ramp up`,
            });
          }
        }
      }),
    onHarm: z.enum(ROLLOUT_REVERT_TARGETS).default('last_safe'),
    reason: storable(z.string().max(1000)).optional(),
  })
  .strict();
export type CreateRolloutRequest = z.input<typeof createRolloutSchema>;

/** What a plan stages: a running experiment's traffic, or the ship of its winner (steps = ship share of targeted units). */
export const ROLLOUT_KINDS = ['traffic', 'ship'] as const;
export type RolloutKind = (typeof ROLLOUT_KINDS)[number];

/**
 * Exposures and the analysis engine name a staged ship's comparison `ship:<key>` (":" is in no
 * experiment key): units in targeting, randomized by the ship draw into the winner arm (below the
 * share) and the default arm (above it). Logged only while the share is below 100 %.
 */
export const SHIP_EXPOSURE_PREFIX = 'ship:';
/** The baseline arm (units still on the default) and the arm given the shipped winner. */
export const SHIP_DEFAULT_ARM = 'default';
export const SHIP_WINNER_ARM = 'winner';

export function shipExposureKey(key: string): string {
  return SHIP_EXPOSURE_PREFIX + key;
}

/** `ship:<key>`, as exposure events carry it. */
export const shipExposureKeySchema = z
  .string()
  .max(SHIP_EXPOSURE_PREFIX.length + 64)
  .regex(/^ship:[a-z0-9][a-z0-9_-]*$/, 'must be "ship:" and an experiment key');

/**
 * Ship a winner. `traffic` stages it: only that percent of targeted units get the winner (by the
 * ship draw, libs/bucketing README step 4; raising it only adds units); `rollout` stages it by a
 * plan whose steps are that percent, advanced by the engine under the guardrails
 * (docs/rollouts.md, "Ship as a rollout"). Neither: everyone in targeting at once, as always.
 */
export const shipExperimentSchema = z
  .object({
    variant: keySchema,
    traffic: trafficSchema.refine((t) => t > 0, 'a staged ship needs a share above 0').optional(),
    rollout: createRolloutSchema.optional(),
  })
  .strict()
  .refine((s) => s.traffic === undefined || s.rollout === undefined, {
    path: ['traffic'],
    message: 'give traffic or rollout, not both (the plan sets the share)',
  });
export type ShipExperimentRequest = z.input<typeof shipExperimentSchema>;

/** Body of pause, resume and advance (advance-now: the next step without waiting for the minimums). */
export const rolloutCommandSchema = z.object({ reason: storable(z.string().max(1000)).optional() }).strict();
export const skipRolloutSchema = z
  .object({
    toStep: z
      .number()
      .int()
      .min(0)
      .max(ROLLOUT_MAX_STEPS - 1),
    reason: storable(z.string().max(1000)).optional(),
  })
  .strict();
export const revertRolloutSchema = z
  .object({ to: z.enum(ROLLOUT_REVERT_TARGETS).optional(), reason: storable(z.string().max(1000)).optional() })
  .strict();

/** A guardrail or SRM finding as the plan saw it. */
export interface RolloutFindingDto {
  kind: 'guardrail_harm' | 'srm';
  message: string;
  details: Record<string, unknown>;
}

export interface RolloutHistoryEntryDto {
  at: string;
  action: RolloutAction;
  /** Step indexes (0-based); null is 0 % traffic (reverted to zero, or before the plan). */
  fromStep: number | null;
  toStep: number | null;
  /** The experiment's traffic after the change, percent. */
  traffic: number;
  reason: string | null;
  /** Who: a key's name, a person's e-mail, or `rollouts` for the engine. */
  actor: string;
  /** The numbers: exposed units, elapsed seconds, findings. */
  details: Record<string, unknown>;
}

/** What the current step waits for before the engine advances it. */
export interface RolloutWaitingDto {
  /** Seconds of the step's minimum duration still to go (0: met). */
  secondsLeft: number;
  /** Exposed units the step still needs (0: met). */
  unitsLeft: number;
  /** One sentence per thing waited for; empty when nothing is. */
  messages: string[];
}

export interface RolloutPlanDto {
  experiment: string;
  /** `traffic`: the steps are the experiment's traffic; `ship`: the share of targeted units given the shipped winner. */
  kind: RolloutKind;
  steps: RolloutStepDto[];
  onHarm: RolloutRevertTarget;
  status: RolloutStatus;
  health: RolloutHealth;
  /** 0-based; null after a revert to 0 %. */
  currentStep: number | null;
  /** The last step that passed with healthy guardrails; null before any. */
  lastSafeStep: number | null;
  /** Percent of the layer the experiment holds now. */
  traffic: number;
  stepStartedAt: string;
  /** Units exposed in the whole experiment at the last check, and when the current step began. */
  exposedUnits: number;
  unitsAtStepStart: number;
  waiting: RolloutWaitingDto;
  /** Findings of the last check that are not acknowledged (a resume or advance after a revert acknowledges those seen then). */
  findings: RolloutFindingDto[];
  /** Why the last revert happened (null when it never reverted). */
  revertReason: string | null;
  checkedAt: string | null;
  history: RolloutHistoryEntryDto[];
  createdAt: string;
  updatedAt: string;
}
