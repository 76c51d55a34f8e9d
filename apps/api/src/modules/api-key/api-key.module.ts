import { Global, Module } from '@nestjs/common';
import { AuthFailures } from '../../common/guards/auth-failures';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { AuditModule } from '../audit/audit.module';
import { ApiKeyController } from './api-key.controller';
import { ApiKeyService } from './api-key.service';
import { ApiKeyUsage } from './api-key-usage';

@Global()
@Module({
  imports: [AuditModule],
  controllers: [ApiKeyController],
  providers: [
    ApiKeyService,
    ApiKeyUsage,
    {
      // One count of failed authentications per process, shared by API keys and passwords.
      provide: AuthFailures,
      useFactory: (config: AppConfig) => new AuthFailures({ limit: config.auth.failureLimit, windowMs: config.auth.failureWindowMs, maxClients: 10_000 }),
      inject: [APP_CONFIG],
    },
  ],
  exports: [ApiKeyService, AuthFailures],
})
export class ApiKeyModule {}
