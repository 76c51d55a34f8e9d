import { Module } from '@nestjs/common';
import { EventModule } from '../event/event.module';
import { MetricsServer } from './metrics-server';
import { TelemetryCollectors } from './telemetry-collectors';
import { TelemetryController } from './telemetry.controller';

/**
 * Prometheus metrics: `GET /v1/system/metrics` (admin) and, optionally, a keyless metrics port. The
 * `Telemetry` instance itself is created with the app (app.factory) and provided globally, so that
 * the HTTP hooks, the fast routes, the writer and the analysis tick can record into it.
 */
@Module({
  imports: [EventModule],
  controllers: [TelemetryController],
  providers: [TelemetryCollectors, MetricsServer],
})
export class TelemetryModule {}
