import type { ExperimentDto, RolloutPlanDto } from '@strata/contracts';
import { useRollout } from '../hooks/queries';

/**
 * A staged ship's share in one sentence (null for anything else, a full ship included): who has
 * the winner now (`shipTraffic`, percent of targeted units) and, with a `ship` plan, where it stands.
 */
export function describeShipShare(e: ExperimentDto, plan: RolloutPlanDto | null | undefined): string | null {
  if (e.status !== 'shipped' || e.shipTraffic === undefined || !e.shippedVariant) return null;
  const share = `Shipped ${e.shippedVariant} to ${Number(e.shipTraffic.toFixed(2))} % of targeted units`;
  if (plan === undefined) return share;
  if (plan === null || plan.kind !== 'ship') return `${share} (a fixed share, moved by hand with a ramp)`;
  const of = (step: number) => `step ${step + 1} of ${plan.steps.length}`;
  switch (plan.status) {
    case 'running':
      return plan.currentStep === null ? `${share}, rolling out` : `${share}, rolling out: ${of(plan.currentStep)}`;
    case 'paused':
      return plan.currentStep === null ? `${share}, rollout paused` : `${share}, rollout paused at ${of(plan.currentStep)}`;
    case 'reverted':
      return plan.currentStep === null ? `${share}, rollout reverted to 0 %` : `${share}, rollout reverted to ${of(plan.currentStep)}`;
    case 'completed':
      return `${share}, rollout completed`;
  }
}

/** Under the experiment's title: the staged ship's share and plan step, updated as the engine moves it. */
export function ShipShare({ experiment }: { experiment: ExperimentDto }) {
  const staged = experiment.status === 'shipped' && experiment.shipTraffic !== undefined;
  const plan = useRollout(experiment.key, staged);
  const text = describeShipShare(experiment, plan.error ? null : plan.data);
  if (!text) return null;
  return (
    <p className="ship-share" data-testid="ship-share" aria-live="polite">
      {text}.
    </p>
  );
}
