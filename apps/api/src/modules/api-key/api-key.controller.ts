import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createApiKeySchema, listQuerySchema, type ApiKeyDto, type CreatedApiKeyDto, type Page } from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { ApiKeyService } from './api-key.service';

const idParam = z.object({ id: z.uuid('must be an API key id (uuid)') });

@ApiTags('api-keys')
@ApiBearerAuth()
@Auth('admin')
@Controller('v1/api-keys')
export class ApiKeyController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @ApiZodBody(createApiKeySchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<CreatedApiKeyDto> {
    return this.keys.create(principal, parseOrThrow(createApiKeySchema, body));
  }

  @Get()
  @ApiZodQuery(listQuerySchema)
  list(@Query() query: unknown): Promise<Page<ApiKeyDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.keys.list(limit, offset);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revoke(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<ApiKeyDto> {
    return this.keys.revoke(principal, parseOrThrow(idParam, params, 'params').id);
  }
}
