import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createLayerSchema,
  keySchema,
  listQuerySchema,
  saltSchema,
  updateLayerSchema,
  type BucketLedgerEntryDto,
  type LayerDto,
  type Page,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ApiZodBody, ApiZodQuery } from '../../common/http/openapi';
import { parseOrThrow } from '../../common/validation/parse-or-throw';
import { LayerService } from './layer.service';

const keyParam = z.object({ key: keySchema });
const rerandomizeSchema = z.object({ salt: saltSchema.optional() }).strict();

@ApiTags('layers')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/layers')
export class LayerController {
  constructor(private readonly layers: LayerService) {}

  @Auth('write')
  @Post()
  @ApiZodBody(createLayerSchema)
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<LayerDto> {
    return this.layers.create(principal, parseOrThrow(createLayerSchema, body));
  }

  @Get()
  @ApiZodQuery(listQuerySchema)
  list(@Query() query: unknown): Promise<Page<LayerDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.layers.list(limit, offset);
  }

  @Get(':key')
  get(@Param() params: unknown): Promise<LayerDto> {
    return this.layers.get(parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Patch(':key')
  @ApiZodBody(updateLayerSchema)
  update(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<LayerDto> {
    return this.layers.update(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(updateLayerSchema, body));
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.layers.remove(principal, parseOrThrow(keyParam, params, 'params').key);
  }

  @Auth('write')
  @Post(':key/rerandomize')
  @HttpCode(200)
  @ApiZodBody(rerandomizeSchema)
  rerandomize(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown): Promise<LayerDto> {
    return this.layers.rerandomize(principal, parseOrThrow(keyParam, params, 'params').key, parseOrThrow(rerandomizeSchema, body ?? {}).salt);
  }

  @Get(':key/ledger')
  @ApiZodQuery(listQuerySchema)
  ledger(@Param() params: unknown, @Query() query: unknown): Promise<Page<BucketLedgerEntryDto>> {
    const { limit, offset } = parseOrThrow(listQuerySchema, query, 'query');
    return this.layers.ledger(parseOrThrow(keyParam, params, 'params').key, limit, offset);
  }
}
