import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { auditQuerySchema, type AuditEntryDto, type Page } from '@strata/contracts';
import type { z } from 'zod';
import { Auth } from '../../common/guards/auth.decorator';
import { ZodQuery } from '../../common/http/zod-route';
import { AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  list(@ZodQuery(auditQuerySchema) query: z.output<typeof auditQuerySchema>): Promise<Page<AuditEntryDto>> {
    return this.audit.list(query);
  }
}
