import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth } from '../../common/guards/auth.decorator';
import { Telemetry } from './telemetry';

/**
 * `GET /v1/system/metrics`: Prometheus text format, admin only (or `/metrics` without a key on
 * STRATA_METRICS_PORT). Not `/metrics` on the API port: that path is the dashboard's metrics page.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/system/metrics')
export class TelemetryController {
  constructor(@Inject(Telemetry) private readonly telemetry: Telemetry) {}

  @Get()
  @ApiProduces('text/plain')
  async metrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { contentType, body } = await this.telemetry.render();
    reply.type(contentType);
    return body;
  }
}
