import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  createLayerSchema,
  keyParamsSchema,
  listQuerySchema,
  saltSchema,
  updateLayerSchema,
  type BucketLedgerEntryDto,
  type KeyParams,
  type LayerDto,
  type Page,
} from '@strata/contracts';
import { z } from 'zod';
import { Auth, CurrentPrincipal } from '../../common/guards/auth.decorator';
import type { Principal } from '../../common/guards/principal';
import { ZodBody, ZodParams, ZodQuery } from '../../common/http/zod-route';
import { LayerService } from './layer.service';

const rerandomizeSchema = z.object({ salt: saltSchema.optional() }).strict();

@ApiTags('layers')
@ApiBearerAuth()
@Auth('read')
@Controller('v1/layers')
export class LayerController {
  constructor(private readonly layers: LayerService) {}

  @Auth('write')
  @Post()
  create(
    @CurrentPrincipal() principal: Principal,
    @ZodBody(createLayerSchema) body: z.output<typeof createLayerSchema>,
  ): Promise<LayerDto> {
    return this.layers.create(principal, body);
  }

  @Get()
  list(@ZodQuery(listQuerySchema) query: z.output<typeof listQuerySchema>): Promise<Page<LayerDto>> {
    return this.layers.list(query.limit, query.offset);
  }

  @Get(':key')
  get(@ZodParams(keyParamsSchema) params: KeyParams): Promise<LayerDto> {
    return this.layers.get(params.key);
  }

  @Auth('write')
  @Patch(':key')
  update(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(updateLayerSchema) body: z.output<typeof updateLayerSchema>,
  ): Promise<LayerDto> {
    return this.layers.update(principal, params.key, body);
  }

  @Auth('write')
  @Delete(':key')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @ZodParams(keyParamsSchema) params: KeyParams): Promise<void> {
    await this.layers.remove(principal, params.key);
  }

  @Auth('write')
  @Post(':key/rerandomize')
  @HttpCode(200)
  rerandomize(
    @CurrentPrincipal() principal: Principal,
    @ZodParams(keyParamsSchema) params: KeyParams,
    @ZodBody(rerandomizeSchema, { orEmpty: true }) body: z.output<typeof rerandomizeSchema>,
  ): Promise<LayerDto> {
    return this.layers.rerandomize(principal, params.key, body.salt);
  }

  // Query before params: a request wrong in both reports the query, as before.
  @Get(':key/ledger')
  ledger(
    @ZodQuery(listQuerySchema) query: z.output<typeof listQuerySchema>,
    @ZodParams(keyParamsSchema) params: KeyParams,
  ): Promise<Page<BucketLedgerEntryDto>> {
    return this.layers.ledger(params.key, query.limit, query.offset);
  }
}
