import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { holdoutExposureKey, MAX_HOLDOUTS, type CreateHoldoutRequest, type HoldoutDto, type Page, type UpdateHoldoutRequest } from '@strata/contracts';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { createWithUniqueKey } from '../../common/errors/postgres-errors';
import type { Principal } from '../../common/guards/principal';
import { AuditService } from '../audit/audit.service';
import { LayerEntity } from '../layer/layer.entity';
import { MetricEntity } from '../metric/metric.entity';
import { toHoldoutDto } from './holdout-definition';
import { HoldoutEntity } from './holdout.entity';

/** What the analysis engine keeps under `holdout:<key>`: a deleted holdout's numbers must not greet a new one of the same key. */
const ANALYSIS_TABLES = ['analysis_stats', 'unit_metric_rollups', 'unit_metric_daily', 'analysis_units', 'analysis_caps', 'analysis_watermarks', 'analysis_sequential_state', 'first_exposures'];

/** Holdouts: CRUD with an audit entry per change; every change bumps the configuration version (snapshot, catalog, engine). */
@Injectable()
export class HoldoutService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, request: CreateHoldoutRequest): Promise<HoldoutDto> {
    return createWithUniqueKey('holdout', request.key, () =>
      this.dataSource.transaction(async (manager) => {
        // Serializes creations, so two concurrent ones cannot both pass the limit.
        await manager.query('LOCK TABLE holdouts IN SHARE ROW EXCLUSIVE MODE');
        const count = await manager.count(HoldoutEntity);
        if (count >= MAX_HOLDOUTS) throw new AppException('too_many_holdouts', `There are already ${count} holdouts (the limit is ${MAX_HOLDOUTS}).`);
        await checkReferences(manager, request.layers ?? null, request.metrics);
        const holdout = manager.create(HoldoutEntity, {
          key: request.key,
          name: request.name,
          description: request.description ?? '',
          salt: request.salt ?? `holdout-${request.key}-${randomBytes(4).toString('hex')}`,
          share: request.share,
          layerKeys: request.layers ?? null,
          metricKeys: request.metrics,
        });
        await manager.insert(HoldoutEntity, holdout);
        const dto = toHoldoutDto(holdout);
        await this.audit.recordConfigChange(manager, principal, { action: 'holdout.create', entityType: 'holdout', entityKey: holdout.key, before: null, after: dto });
        return dto;
      }),
    );
  }

  async list(limit: number, offset: number): Promise<Page<HoldoutDto>> {
    const [rows, total] = await this.dataSource.manager.findAndCount(HoldoutEntity, { order: { createdAt: 'ASC', key: 'ASC' }, take: limit, skip: offset });
    return { items: rows.map(toHoldoutDto), total, limit, offset };
  }

  async get(key: string): Promise<HoldoutDto> {
    return toHoldoutDto(await this.find(this.dataSource.manager, key));
  }

  async find(manager: EntityManager, key: string, lock = false): Promise<HoldoutEntity> {
    const h = await manager.findOne(HoldoutEntity, { where: { key }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!h) throw new NotFoundException('holdout', key);
    return h;
  }

  async update(principal: Principal, key: string, request: UpdateHoldoutRequest): Promise<HoldoutDto> {
    return this.dataSource.transaction(async (manager) => {
      const h = await this.find(manager, key, true);
      if ((request.share !== undefined && request.share !== h.share) || (request.salt !== undefined && request.salt !== h.salt)) {
        throw new AppException('holdout_locked', undefined, [{ path: request.share !== undefined && request.share !== h.share ? 'share' : 'salt', message: 'fixed at creation; create a new holdout instead' }]);
      }
      const before = toHoldoutDto(h);
      await checkReferences(manager, request.layers === undefined ? h.layerKeys : request.layers, request.metrics ?? h.metricKeys);
      if (request.name !== undefined) h.name = request.name;
      if (request.description !== undefined) h.description = request.description;
      if (request.layers !== undefined) h.layerKeys = request.layers;
      if (request.metrics !== undefined) h.metricKeys = request.metrics;
      await manager.save(h);
      const after = toHoldoutDto(h);
      await this.audit.recordConfigChange(manager, principal, { action: 'holdout.update', entityType: 'holdout', entityKey: key, before, after });
      return after;
    });
  }

  async remove(principal: Principal, key: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const h = await this.find(manager, key, true);
      const before = toHoldoutDto(h);
      await manager.delete(HoldoutEntity, { key });
      for (const table of ANALYSIS_TABLES) await manager.query(`DELETE FROM ${table} WHERE experiment_key = $1`, [holdoutExposureKey(key)]);
      await this.audit.recordConfigChange(manager, principal, { action: 'holdout.delete', entityType: 'holdout', entityKey: key, before, after: null });
    });
  }
}

/** Unknown layers or metrics are a 400 naming each one. */
async function checkReferences(manager: EntityManager, layers: string[] | null, metrics: string[]): Promise<void> {
  const details: { path: string; message: string }[] = [];
  if (layers !== null) {
    const found = new Set((await manager.find(LayerEntity, { where: { key: In(layers) }, select: { key: true } })).map((l) => l.key));
    layers.forEach((k, i) => {
      if (!found.has(k)) details.push({ path: `layers.${i}`, message: `no layer "${k}"` });
    });
  }
  const found = new Set((await manager.find(MetricEntity, { where: { key: In(metrics) }, select: { key: true } })).map((m) => m.key));
  metrics.forEach((k, i) => {
    if (!found.has(k)) details.push({ path: `metrics.${i}`, message: `no metric "${k}"` });
  });
  if (details.length) throw new AppException('validation_failed', 'The holdout names layers or metrics that do not exist.', details);
}
