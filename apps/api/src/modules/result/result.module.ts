import { Module } from '@nestjs/common';
import { ResultController } from './result.controller';
import { ResultService } from './result.service';
import { RollupService } from './rollup.service';

/** Experiment results: incremental per-unit rollups, sufficient statistics in SQL, libs/stats on top. */
@Module({
  controllers: [ResultController],
  providers: [ResultService, RollupService],
  exports: [ResultService, RollupService],
})
export class ResultModule {}
