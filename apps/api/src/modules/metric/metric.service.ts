import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  createMetricSchema,
  EVENT_NAME_SUGGESTIONS_DAYS,
  METRIC_BASELINE_BASIS,
  type EventNameSuggestionsDto,
  type MetricArchivedFilter,
  type MetricBaselineDto,
  type MetricDto,
  type MetricUsageDto,
  type Page,
  type UpdateMetricRequest,
} from '@strata/contracts';
import { DataSource, IsNull, Not } from 'typeorm';
import type { z } from 'zod';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { createWithUniqueKey } from '../../common/errors/postgres-errors';
import type { Principal } from '../../common/guards/principal';
import { readLatestControlStats } from '../analysis/stats-store';
import { AuditService } from '../audit/audit.service';
import { observedBaseline } from './metric-baseline';
import { MetricEntity } from './metric.entity';

export function toMetricDto(m: MetricEntity): MetricDto {
  return {
    key: m.key,
    name: m.name,
    description: m.description,
    type: m.type,
    eventName: m.eventName,
    denominatorEventName: m.denominatorEventName,
    direction: m.direction,
    winsorizePercentile: m.winsorizePercentile,
    harmThreshold: m.harmThreshold,
    attributionWindowHours: m.attributionWindowHours,
    cupedLookbackDays: m.cupedLookbackDays,
    archivedAt: m.archivedAt ? m.archivedAt.toISOString() : null,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/** Metric events counted for the event-name suggestions at most (a bounded sample of the window). */
const EVENT_NAME_SAMPLE_ROWS = 200_000;

@Injectable()
export class MetricService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, request: z.output<typeof createMetricSchema>): Promise<MetricDto> {
    // INSERT, never save(): save() would UPDATE the row if another request created the key first.
    return createWithUniqueKey('metric', request.key, () =>
      this.dataSource.transaction(async (manager) => {
        const metric = manager.create(MetricEntity, {
          key: request.key,
          name: request.name,
          description: request.description ?? '',
          type: request.type,
          eventName: request.eventName,
          denominatorEventName: request.denominatorEventName ?? null,
          direction: request.direction,
          winsorizePercentile: request.winsorizePercentile ?? null,
          harmThreshold: request.harmThreshold ?? null,
          attributionWindowHours: request.attributionWindowHours ?? null,
          cupedLookbackDays: request.cupedLookbackDays,
        });
        await manager.insert(MetricEntity, metric);
        const dto = toMetricDto(metric);
        await this.audit.record(manager, principal, { action: 'metric.create', entityType: 'metric', entityKey: metric.key, before: null, after: dto });
        return dto;
      }),
    );
  }

  async list(limit: number, offset: number, archived: MetricArchivedFilter = 'exclude'): Promise<Page<MetricDto>> {
    const where = archived === 'include' ? {} : { archivedAt: archived === 'only' ? Not(IsNull()) : IsNull() };
    const [rows, total] = await this.dataSource.manager.findAndCount(MetricEntity, { where, order: { createdAt: 'ASC' }, take: limit, skip: offset });
    return { items: rows.map(toMetricDto), total, limit, offset };
  }

  async get(key: string): Promise<MetricDto> {
    const metric = await this.dataSource.manager.findOne(MetricEntity, { where: { key } });
    if (!metric) throw new NotFoundException('metric', key);
    return toMetricDto(metric);
  }

  /** The observed baseline for the power calculator (see metric-baseline.ts); 404 only for an unknown metric. */
  async baseline(key: string): Promise<MetricBaselineDto> {
    const metric = await this.dataSource.manager.findOne(MetricEntity, { where: { key } });
    if (!metric) throw new NotFoundException('metric', key);
    const none = (reason: string): MetricBaselineDto => ({ metric: key, type: metric.type, observed: null, source: null, reason });
    const control = await readLatestControlStats(this.dataSource, key);
    if (!control) return none('No experiment measuring this metric has analysed units yet.');
    const observed = observedBaseline(metric.type, control.arm);
    if (!observed) return none(`Too little data in the control of experiment "${control.experimentKey}" for a baseline.`);
    return {
      metric: key,
      type: metric.type,
      observed,
      source: { basis: METRIC_BASELINE_BASIS, experiments: [control.experimentKey], variant: control.variantKey },
      reason: null,
    };
  }

  /** The experiments measuring the metric (any status), one row per role; 404 for an unknown metric. */
  async usage(key: string): Promise<MetricUsageDto> {
    const metric = await this.dataSource.manager.findOne(MetricEntity, { where: { key } });
    if (!metric) throw new NotFoundException('metric', key);
    const rows: MetricUsageDto['usedBy'] = await this.dataSource.query(
      `SELECT key, name, status, role FROM (
         SELECT key, name, status, created_at, 'primary' AS role, 0 AS ord FROM experiments WHERE primary_metric = $1
         UNION ALL
         SELECT key, name, status, created_at, 'secondary', 1 FROM experiments WHERE secondary_metrics ? $1
         UNION ALL
         SELECT key, name, status, created_at, 'guardrail', 2 FROM experiments WHERE guardrail_metrics ? $1
       ) u ORDER BY created_at DESC, key, ord`,
      [key],
    );
    return { metric: key, usedBy: rows };
  }

  /**
   * Distinct metric-event names received in the last EVENT_NAME_SUGGESTIONS_DAYS days, most
   * frequent first. Bounded: `ts` (the partition key) prunes to the last days' partitions, the
   * received_at BRIN narrows the blocks read, at most EVENT_NAME_SAMPLE_ROWS rows are counted (a
   * suggestion list wants the common names, not exact counts: without the cap a busy week, tens of
   * millions of events, would be scanned on every keystroke), and the reply has at most `limit` rows.
   */
  async eventNames(prefix: string, limit: number): Promise<EventNameSuggestionsDto> {
    const since = new Date(Date.now() - EVENT_NAME_SUGGESTIONS_DAYS * 86_400_000);
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows: { name: string; count: string }[] = await this.dataSource.query(
      `SELECT name, count(*) AS count FROM (
         SELECT name FROM events
          WHERE type = 'metric' AND ts >= $1 AND received_at >= $1 AND name LIKE $2
          LIMIT $4
       ) sample
        GROUP BY name ORDER BY count(*) DESC, name LIMIT $3`,
      [since, pattern, limit, EVENT_NAME_SAMPLE_ROWS],
    );
    return { since: since.toISOString(), items: rows.map((r) => ({ name: r.name, count: Number(r.count) })) };
  }

  async update(principal: Principal, key: string, request: UpdateMetricRequest): Promise<MetricDto> {
    return this.dataSource.transaction(async (manager) => {
      const metric = await manager.findOne(MetricEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!metric) throw new NotFoundException('metric', key);
      const before = toMetricDto(metric);
      for (const field of ['name', 'description', 'direction', 'winsorizePercentile', 'harmThreshold', 'attributionWindowHours', 'cupedLookbackDays'] as const) {
        if (request[field] !== undefined) Object.assign(metric, { [field]: request[field] });
      }
      const saved = await manager.save(metric);
      const after = toMetricDto(saved);
      await this.audit.record(manager, principal, { action: 'metric.update', entityType: 'metric', entityKey: key, before, after });
      return after;
    });
  }

  /**
   * Archives (`archived` true) or restores a metric. Idempotent: archiving an archived metric
   * changes nothing and records no audit entry. Experiments using it are untouched: they keep
   * measuring it, only new references are refused (ExperimentService.checkReferences).
   */
  async setArchived(principal: Principal, key: string, archived: boolean): Promise<MetricDto> {
    return this.dataSource.transaction(async (manager) => {
      const metric = await manager.findOne(MetricEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!metric) throw new NotFoundException('metric', key);
      if ((metric.archivedAt !== null) === archived) return toMetricDto(metric);
      const before = toMetricDto(metric);
      metric.archivedAt = archived ? new Date() : null;
      const after = toMetricDto(await manager.save(metric));
      await this.audit.record(manager, principal, { action: archived ? 'metric.archive' : 'metric.unarchive', entityType: 'metric', entityKey: key, before, after });
      return after;
    });
  }

  async remove(principal: Principal, key: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const metric = await manager.findOne(MetricEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!metric) throw new NotFoundException('metric', key);
      const users: { key: string }[] = await manager.query(
        `SELECT key FROM experiments
          WHERE primary_metric = $1 OR secondary_metrics ? $1 OR guardrail_metrics ? $1
          ORDER BY key LIMIT 20`,
        [key],
      );
      if (users.length > 0) {
        throw new AppException('conflict', `Metric "${key}" is used by experiment(s): ${users.map((u) => u.key).join(', ')}.`);
      }
      const before = toMetricDto(metric);
      await manager.delete(MetricEntity, { key });
      await this.audit.record(manager, principal, { action: 'metric.delete', entityType: 'metric', entityKey: key, before, after: null });
    });
  }
}
