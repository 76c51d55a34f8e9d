import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  apiKeyIdParamsSchema,
  createApiKeySchema,
  listQuerySchema,
  type ApiKeyDto,
  type ApiKeyIdParams,
  type CreatedApiKeyDto,
  type Page,
} from '@strata/contracts';
import type { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { ApiKeyService } from './api-key.service';

@ApiTags('api-keys')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/api-keys')
export class ApiKeyController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(createApiKeySchema) body: z.output<typeof createApiKeySchema>,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listQuerySchema) query: z.output<typeof listQuerySchema>): Promise<Page<ApiKeyDto>> {
    return this.keys.list(query.limit, query.offset);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revoke(@CurrentPrincipal() principal: Principal, @ZodParams(apiKeyIdParamsSchema) params: ApiKeyIdParams): Promise<ApiKeyDto> {
    return this.keys.revoke(principal, params.id);
  }
}
