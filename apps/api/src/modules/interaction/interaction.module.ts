import { Module } from '@nestjs/common';
import { AnalysisModule } from '../analysis/analysis.module';
import { InteractionController } from './interaction.controller';
import { InteractionService } from './interaction.service';

/** Interaction checks across layers: every pair's interaction test on the engine's stored per-unit values, on a schedule and on demand. */
@Module({
  imports: [AnalysisModule],
  controllers: [InteractionController],
  providers: [InteractionService],
  exports: [InteractionService],
})
export class InteractionModule {}
