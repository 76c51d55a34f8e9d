import { Module } from '@nestjs/common';
import { Clock } from '../../common/time/clock';
import { AnalysisModule } from '../analysis/analysis.module';
import { AuditModule } from '../audit/audit.module';
import { ExperimentModule } from '../experiment/experiment.module';
import { GuardrailModule } from '../guardrail/guardrail.module';
import { RolloutController } from './rollout.controller';
import { RolloutService } from './rollout.service';
import { ShipController } from './ship.controller';

/**
 * Progressive rollouts: plans of traffic steps (or of a staged ship's share) advanced by the engine
 * on healthy guardrails and reverted on harm (or SRM, for traffic plans); the ship route. Imports GuardrailModule so its consumer registers first: the SRM
 * state a rollout check reads is the one the guardrail consumer folded in the same tick.
 */
@Module({
  imports: [AnalysisModule, AuditModule, ExperimentModule, GuardrailModule],
  controllers: [RolloutController, ShipController],
  providers: [RolloutService, Clock],
  exports: [RolloutService, Clock],
})
export class RolloutModule {}
