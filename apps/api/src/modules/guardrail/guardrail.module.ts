import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ExperimentModule } from '../experiment/experiment.module';
import { ResultModule } from '../result/result.module';
import { GuardrailService } from './guardrail.service';
import { WebhookService } from './webhook.service';

/** Guardrails on every tick: auto-stop or alert on guardrail harm and SRM, audit and webhook. */
@Module({
  imports: [AuditModule, ExperimentModule, ResultModule],
  providers: [GuardrailService, WebhookService],
  exports: [GuardrailService, WebhookService],
})
export class GuardrailModule {}
