import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { LayerModule } from '../layer/layer.module';
import { ExperimentController } from './experiment.controller';
import { ExperimentService } from './experiment.service';

@Module({
  imports: [AuditModule, LayerModule],
  controllers: [ExperimentController],
  providers: [ExperimentService],
  exports: [ExperimentService],
})
export class ExperimentModule {}
