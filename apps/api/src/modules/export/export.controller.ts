import { Controller, Get, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { exportFormatSchema, keyParamsSchema, unitExportFormatSchema, type KeyParams } from '@strata/contracts';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ZodParams, ZodQuery } from '../../common/http/zod-route';
import { ExportService } from './export.service';

function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

@ApiTags('exports')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/experiments/:key/export')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Get()
  async results(
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodQuery(exportFormatSchema) query: z.output<typeof exportFormatSchema>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | Buffer> {
    const file = await this.exports.resultsTable(params.key, query.format);
    reply.header('content-type', file.type).header('content-disposition', attachment(file.filename));
    return file.body;
  }

  @Get('units')
  async units(
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodQuery(unitExportFormatSchema) query: z.output<typeof unitExportFormatSchema>,
  ): Promise<StreamableFile> {
    const file = await this.exports.units(params.key, query.format);
    return new StreamableFile(file.stream, { type: file.type, disposition: attachment(file.filename) });
  }

  /** The content type is set once the SQL exists: a `@Header` would stay on an error reply too. */
  @Get('sql')
  async sql(@ZodParams(keyParamsSchema) params: KeyParams, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const sql = await this.exports.sql(params.key);
    reply.type('text/plain; charset=utf-8');
    return sql;
  }
}
