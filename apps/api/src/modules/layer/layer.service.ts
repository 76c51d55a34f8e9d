import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  BUCKETS_PER_LAYER,
  type BucketLedgerEntryDto,
  type CreateLayerRequest,
  type ExperimentStatus,
  type LayerDto,
  type Page,
  type UpdateLayerRequest,
} from '@strata/contracts';
import { DataSource, type EntityManager, In, IsNull } from 'typeorm';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { createWithUniqueKey } from '../../common/errors/postgres-errors';
import type { Principal } from '../../common/guards/principal';
import { AuditService } from '../audit/audit.service';
import { ExperimentEntity } from '../experiment/experiment.entity';
import { countBuckets, normalize } from './bucket-allocator';
import { BucketAllocationEntity } from './bucket-allocation.entity';
import { toLedgerDto } from './bucket-ledger.service';
import { LayerEntity } from './layer.entity';

@Injectable()
export class LayerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, request: CreateLayerRequest): Promise<LayerDto> {
    return createWithUniqueKey('layer', request.key, () =>
      this.dataSource.transaction(async (manager) => {
        const layer = manager.create(LayerEntity, {
          key: request.key,
          name: request.name,
          description: request.description ?? '',
          salt: request.salt ?? request.key,
        });
        await manager.insert(LayerEntity, layer);
        const dto = await this.toDto(manager, layer);
        await this.audit.recordConfigChange(manager, principal, { action: 'layer.create', entityType: 'layer', entityKey: layer.key, before: null, after: dto });
        return dto;
      }),
    );
  }

  async list(limit: number, offset: number): Promise<Page<LayerDto>> {
    const manager = this.dataSource.manager;
    const [rows, total] = await manager.findAndCount(LayerEntity, { order: { createdAt: 'ASC' }, take: limit, skip: offset });
    const items = await this.toDtos(manager, rows);
    return { items, total, limit, offset };
  }

  async get(key: string): Promise<LayerDto> {
    const layer = await this.dataSource.manager.findOne(LayerEntity, { where: { key } });
    if (!layer) throw new NotFoundException('layer', key);
    return this.toDto(this.dataSource.manager, layer);
  }

  async update(principal: Principal, key: string, request: UpdateLayerRequest): Promise<LayerDto> {
    return this.dataSource.transaction(async (manager) => {
      const layer = await manager.findOne(LayerEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!layer) throw new NotFoundException('layer', key);
      const before = await this.toDto(manager, layer);
      if (request.name !== undefined) layer.name = request.name;
      if (request.description !== undefined) layer.description = request.description;
      await manager.save(layer);
      const after = await this.toDto(manager, layer);
      await this.audit.recordConfigChange(manager, principal, { action: 'layer.update', entityType: 'layer', entityKey: key, before, after });
      return after;
    });
  }

  /** A new salt reshuffles which units fall into which bucket: only allowed while nothing runs in the layer. */
  async rerandomize(principal: Principal, key: string, salt: string | undefined): Promise<LayerDto> {
    return this.dataSource.transaction(async (manager) => {
      const layer = await manager.findOne(LayerEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!layer) throw new NotFoundException('layer', key);
      const running = await manager.count(ExperimentEntity, { where: { layerKey: key, status: 'running' } });
      if (running > 0) {
        throw new AppException('conflict', `Layer "${key}" has ${running} running experiment(s); stop them before re-randomizing, or every unit in them would move.`);
      }
      const before = await this.toDto(manager, layer);
      layer.salt = salt ?? `${key}-${randomBytes(4).toString('hex')}`;
      await manager.save(layer);
      const after = await this.toDto(manager, layer);
      await this.audit.recordConfigChange(manager, principal, { action: 'layer.rerandomize', entityType: 'layer', entityKey: key, before, after });
      return after;
    });
  }

  async remove(principal: Principal, key: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const layer = await manager.findOne(LayerEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!layer) throw new NotFoundException('layer', key);
      const experiments = await manager.count(ExperimentEntity, { where: { layerKey: key } });
      if (experiments > 0) throw new AppException('conflict', `Layer "${key}" still has ${experiments} experiment(s); delete or move them first.`);
      const before = await this.toDto(manager, layer);
      await manager.delete(BucketAllocationEntity, { layerKey: key });
      await manager.delete(LayerEntity, { key });
      await this.audit.recordConfigChange(manager, principal, { action: 'layer.delete', entityType: 'layer', entityKey: key, before, after: null });
    });
  }

  async ledger(key: string, limit: number, offset: number): Promise<Page<BucketLedgerEntryDto>> {
    await this.get(key);
    const [rows, total] = await this.dataSource.manager.findAndCount(BucketAllocationEntity, {
      where: { layerKey: key },
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toLedgerDto), total, limit, offset };
  }

  private async toDto(manager: EntityManager, layer: LayerEntity): Promise<LayerDto> {
    const [dto] = await this.toDtos(manager, [layer]);
    if (!dto) throw new Error('unreachable');
    return dto;
  }

  private async toDtos(manager: EntityManager, layers: LayerEntity[]): Promise<LayerDto[]> {
    if (layers.length === 0) return [];
    const keys = layers.map((l) => l.key);
    const live = await manager.find(BucketAllocationEntity, { where: { layerKey: In(keys), releasedAt: IsNull() } });
    const experimentKeys = [...new Set(live.map((a) => a.experimentKey))];
    const experiments = experimentKeys.length
      ? await manager.find(ExperimentEntity, { where: { key: In(experimentKeys) }, select: { key: true, status: true } })
      : [];
    const statusOf = new Map<string, ExperimentStatus>(experiments.map((e) => [e.key, e.status]));
    return layers.map((layer) => {
      const mine = live.filter((a) => a.layerKey === layer.key);
      const byExperiment = new Map<string, BucketAllocationEntity[]>();
      for (const a of mine) byExperiment.set(a.experimentKey, [...(byExperiment.get(a.experimentKey) ?? []), a]);
      const allocations = [...byExperiment.entries()].map(([experiment, rows]) => {
        const ranges = normalize(rows.map((r) => ({ start: r.start, end: r.end })));
        return { experiment, status: statusOf.get(experiment) ?? 'running', ranges, buckets: countBuckets(ranges) };
      });
      const used = allocations.reduce((n, a) => n + a.buckets, 0);
      return {
        key: layer.key,
        name: layer.name,
        description: layer.description,
        salt: layer.salt,
        buckets: BUCKETS_PER_LAYER,
        freeBuckets: BUCKETS_PER_LAYER - used,
        allocations,
        createdAt: layer.createdAt.toISOString(),
        updatedAt: layer.updatedAt.toISOString(),
      };
    });
  }
}
