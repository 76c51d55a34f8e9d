import { Module } from '@nestjs/common';
import { AnalysisModule } from '../analysis/analysis.module';
import { ResultController, SummaryController } from './result.controller';
import { ResultService } from './result.service';
import { SequentialStateService } from './sequential-state.service';

/** Experiment results, time series and list summaries: keyed reads of the engine's statistics, libs/stats on top. */
@Module({
  imports: [AnalysisModule],
  controllers: [SummaryController, ResultController],
  providers: [ResultService, SequentialStateService],
  exports: [ResultService, SequentialStateService, AnalysisModule],
})
export class ResultModule {}
