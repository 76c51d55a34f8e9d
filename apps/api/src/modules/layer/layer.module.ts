import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { BucketLedgerService } from './bucket-ledger.service';
import { LayerController } from './layer.controller';
import { LayerService } from './layer.service';

@Module({
  imports: [AuditModule],
  controllers: [LayerController],
  providers: [LayerService, BucketLedgerService],
  exports: [BucketLedgerService],
})
export class LayerModule {}
