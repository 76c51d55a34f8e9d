import { Module } from '@nestjs/common';
import { ResultModule } from '../result/result.module';
import { ExportController } from './export.controller';
import { ExportService } from './export.service';

/** Analyst exports: results table (CSV/JSON), per-unit rows (streamed CSV/NDJSON), the SQL. */
@Module({
  imports: [ResultModule],
  controllers: [ExportController],
  providers: [ExportService],
  exports: [ExportService],
})
export class ExportModule {}
