import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ApiKeyController } from './api-key.controller';
import { ApiKeyService } from './api-key.service';

@Global()
@Module({
  imports: [AuditModule],
  controllers: [ApiKeyController],
  providers: [ApiKeyService],
  exports: [ApiKeyService],
})
export class ApiKeyModule {}
