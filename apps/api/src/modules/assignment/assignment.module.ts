import { Module } from '@nestjs/common';
import { AssignmentController } from './assignment.controller';
import { AssignmentService } from './assignment.service';
import { ConfigSnapshotService } from './config-snapshot.service';
import { EXPOSURE_SINK, UnwiredExposureSink } from './exposure-sink';

/**
 * Assignment (`POST /v1/assign`, `/v1/assign/batch`), the SDK snapshot (`GET /v1/sdk/config`)
 * and `GET /v1/explain`. Exports ConfigSnapshotService for any module that needs the live
 * configuration without a query.
 */
@Module({
  controllers: [AssignmentController],
  providers: [ConfigSnapshotService, AssignmentService, { provide: EXPOSURE_SINK, useClass: UnwiredExposureSink }],
  exports: [ConfigSnapshotService],
})
export class AssignmentModule {}
