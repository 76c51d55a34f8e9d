import { Module } from '@nestjs/common';
import { AnalysisModule } from '../analysis/analysis.module';
import { AuditModule } from '../audit/audit.module';
import { HoldoutController } from './holdout.controller';
import { HoldoutResultsService } from './holdout-results.service';
import { HoldoutService } from './holdout.service';

/** Holdouts (#17): CRUD, and their comparison from the analysis engine's statistics. Assignment reads them from the snapshot. */
@Module({
  imports: [AuditModule, AnalysisModule],
  controllers: [HoldoutController],
  providers: [HoldoutService, HoldoutResultsService],
})
export class HoldoutModule {}
