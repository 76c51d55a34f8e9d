import { Module } from '@nestjs/common';
import { AnalysisController } from './analysis.controller';
import { AnalysisEngineService } from './analysis-engine.service';

/** The continuous analysis engine: one tick for every experiment, per-variant statistics kept by exact deltas. */
@Module({
  controllers: [AnalysisController],
  providers: [AnalysisEngineService],
  exports: [AnalysisEngineService],
})
export class AnalysisModule {}
