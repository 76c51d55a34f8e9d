import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { FastRoutes } from '../../common/http/fast-routes';
import { ApiKeyModule } from '../api-key/api-key.module';
import { ApiKeyService } from '../api-key/api-key.service';
import { EventModule } from '../event/event.module';
import { registerAssignRoute } from './assign.route';
import { AssignmentController } from './assignment.controller';
import { AssignmentService } from './assignment.service';
import { CollectorExposureSink, EXPOSURE_SINK } from './exposure-sink';

/**
 * Assignment (`POST /v1/assign`, `/v1/assign/batch`), the SDK snapshot (`GET /v1/sdk/config`)
 * and `GET /v1/explain`, from ConfigStateService's snapshot. `logExposures` writes through the
 * event collector's EventWriter.
 */
@Module({
  imports: [EventModule, ApiKeyModule],
  controllers: [AssignmentController],
  providers: [AssignmentService, { provide: EXPOSURE_SINK, useClass: CollectorExposureSink }],
})
export class AssignmentModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly fastRoutes: FastRoutes,
    private readonly keys: ApiKeyService,
    private readonly assignments: AssignmentService,
  ) {}

  onModuleInit(): void {
    registerAssignRoute(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), this.fastRoutes, this.keys, this.assignments);
  }
}
