import { Controller, Get, Param, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { exportFormatSchema, keySchema, unitExportFormatSchema } from '@strata/contracts';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { ExportService } from './export.service';

const keyParam = z.object({ key: keySchema });

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
  @ApiZodQuery(exportFormatSchema)
  async results(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<string | Buffer> {
    const file = await this.exports.resultsTable(
      parseOrThrow(keyParam, params, 'params').key,
      parseOrThrow(exportFormatSchema, query, 'query').format,
    );
    reply.header('content-type', file.type).header('content-disposition', attachment(file.filename));
    return file.body;
  }

  @Get('units')
  @ApiZodQuery(unitExportFormatSchema)
  async units(@Param() params: unknown, @Query() query: unknown): Promise<StreamableFile> {
    const file = await this.exports.units(
      parseOrThrow(keyParam, params, 'params').key,
      parseOrThrow(unitExportFormatSchema, query, 'query').format,
    );
    return new StreamableFile(file.stream, { type: file.type, disposition: attachment(file.filename) });
  }

  /** The content type is set once the SQL exists: a `@Header` would stay on an error reply too. */
  @Get('sql')
  async sql(@Param() params: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const sql = await this.exports.sql(parseOrThrow(keyParam, params, 'params').key);
    reply.type('text/plain; charset=utf-8');
    return sql;
  }
}
