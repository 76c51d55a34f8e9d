import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { FastRoutes } from './common/http/fast-routes';
import { ApiKeyGuard } from './common/guards/api-key.guard';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { AnalysisModule } from './modules/analysis/analysis.module';
import { ApiKeyModule } from './modules/api-key/api-key.module';
import { AssignmentModule } from './modules/assignment/assignment.module';
import { AuditModule } from './modules/audit/audit.module';
import { ConfigStateModule } from './modules/config-state/config-state.module';
import { EventModule } from './modules/event/event.module';
import { ExperimentModule } from './modules/experiment/experiment.module';
import { ExportModule } from './modules/export/export.module';
import { GuardrailModule } from './modules/guardrail/guardrail.module';
import { InteractionModule } from './modules/interaction/interaction.module';
import { HealthModule } from './modules/health/health.module';
import { HoldoutModule } from './modules/holdout/holdout.module';
import { LayerModule } from './modules/layer/layer.module';
import { MetricModule } from './modules/metric/metric.module';
import { ResultModule } from './modules/result/result.module';
import { RolloutModule } from './modules/rollout/rollout.module';
import { Telemetry } from './modules/telemetry/telemetry';
import { TelemetryModule } from './modules/telemetry/telemetry.module';
import { UserModule } from './modules/user/user.module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Feature modules, in one list so a newcomer sees every capability at a glance. */
export const FEATURE_MODULES = [HealthModule, ConfigStateModule, ApiKeyModule, UserModule, AuditModule, LayerModule, MetricModule, ExperimentModule, AssignmentModule, EventModule, AnalysisModule, ResultModule, GuardrailModule, RolloutModule, InteractionModule, ExportModule, TelemetryModule, HoldoutModule];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, dataSource: DataSource, databaseUrl: string, fastRoutes: FastRoutes, telemetry: Telemetry): DynamicModule {
    const dashboardDir = existsSync(join(config.dashboardDir, 'index.html')) ? config.dashboardDir : null;
    return {
      module: AppModule,
      global: true,
      imports: [DatabaseModule.forDataSource(dataSource, databaseUrl), ...FEATURE_MODULES],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: FastRoutes, useValue: fastRoutes },
        { provide: Telemetry, useValue: telemetry },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useValue: new AllExceptionsFilter(dashboardDir) },
      ],
      exports: [APP_CONFIG, FastRoutes, Telemetry],
    };
  }
}
