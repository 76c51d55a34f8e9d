import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { auditQuerySchema, type AuditEntryDto, type Page } from '@strata/contracts';
import { Auth } from '../../common/guards/auth.decorator';
import { ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiZodQuery(auditQuerySchema)
  list(@Query() query: unknown): Promise<Page<AuditEntryDto>> {
    return this.audit.list(parseOrThrow(auditQuerySchema, query, 'query'));
  }
}
