import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  createExperimentSchema,
  EVENT_MAX_AGE_MS,
  listExperimentsQuerySchema,
  updateExperimentSchema,
  valueProblem,
  type ErrorDetail,
  type ExperimentAlertDto,
  type ExperimentDto,
  type Page,
  type ValueType,
  type VariantDto,
  type VariantValue,
} from '@strata/contracts';
import { DataSource, type EntityManager, In, type QueryDeepPartialEntity } from 'typeorm';
import type { z } from 'zod';
import { AppException, NotFoundException } from '../../common/errors/app.exception';
import { createWithUniqueKey } from '../../common/errors/postgres-errors';
import type { Principal } from '../../common/guards/principal';
import { AuditService } from '../audit/audit.service';
import { BucketLedgerService } from '../layer/bucket-ledger.service';
import { LayerEntity } from '../layer/layer.entity';
import { MetricEntity } from '../metric/metric.entity';
import { ExperimentEntity } from './experiment.entity';
import { toExperimentDto, trafficToBuckets } from './experiment.mapper';

type CreateExperiment = z.output<typeof createExperimentSchema>;
type UpdateExperiment = z.output<typeof updateExperimentSchema>;
type ListQuery = z.output<typeof listExperimentsQuerySchema>;

function toVariants(variants: readonly { key: string; name?: string; weight: number; value?: VariantValue }[], valueType: ValueType | null): VariantDto[] {
  return variants.map((v) => {
    const out: VariantDto = { key: v.key, name: v.name ?? v.key, weight: v.weight };
    if (valueType !== null && v.value !== undefined) out.value = v.value;
    return out;
  });
}

/** Variants as compared for the running lock: key, name, weight and value, in order. */
function variantsSignature(variants: readonly VariantDto[]): string {
  return JSON.stringify(variants.map((v) => [v.key, v.name, v.weight, v.value ?? null]));
}

/** The experiment as it will be saved: every variant and the default carry a value of `valueType`. */
function checkStoredValues(valueType: ValueType | null, defaultValue: VariantValue | null, variants: readonly VariantDto[], variantsSent: boolean): void {
  if (valueType === null) return;
  const details: ErrorDetail[] = [];
  variants.forEach((v, i) => {
    const p = valueProblem(valueType, v.value);
    if (p !== null) details.push({ path: variantsSent ? `variants.${i}.value` : 'variants', message: variantsSent ? p : `variant "${v.key}": ${p} (send the variants with values of type ${valueType})` });
  });
  const p = valueProblem(valueType, defaultValue);
  if (p !== null) details.push({ path: 'defaultValue', message: p });
  if (details.length) throw new AppException('validation_failed', `The values do not fit valueType "${valueType}".`, details);
}

/**
 * Experiment configuration and lifecycle: draft → running → stopped, or running → shipped,
 * then shipped (or stopped) → concluded.
 * Every change is one transaction that also writes the audit entry and bumps the config
 * version, so assignment picks it up everywhere within seconds.
 */
@Injectable()
export class ExperimentService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly ledger: BucketLedgerService,
  ) {}

  async create(principal: Principal, request: CreateExperiment): Promise<ExperimentDto> {
    // INSERT, never save(): save() would UPDATE the row if another request created the key first.
    return createWithUniqueKey('experiment', request.key, () =>
      this.dataSource.transaction(async (manager) => {
        await this.checkReferences(manager, request);
        const entity = manager.create(ExperimentEntity, {
          key: request.key,
          name: request.name,
          hypothesis: request.hypothesis ?? '',
          layerKey: request.layer,
          status: 'draft',
          variants: toVariants(request.variants, request.valueType ?? null),
          trafficBuckets: trafficToBuckets(request.traffic),
          targeting: request.targeting ?? null,
          forcedVariants: (request.forcedVariants ?? []).map((f) => ({ unitId: f.unitId, variant: f.variant, expiresAt: f.expiresAt ?? null })),
          primaryMetric: request.primaryMetric ?? null,
          secondaryMetrics: request.secondaryMetrics ?? [],
          guardrailMetrics: request.guardrailMetrics ?? [],
          plannedSampleSize: request.plannedSampleSize ?? null,
          segmentDimensions: request.segmentDimensions ?? null,
          minDurationDays: request.minDurationDays ?? null,
          autoStop: request.autoStop ?? false,
          salt: request.salt ?? request.key,
          shippedVariant: null,
          shipBuckets: null,
          valueType: request.valueType ?? null,
          defaultValue: request.valueType ? (request.defaultValue ?? null) : null,
          alerts: [],
          startedAt: null,
          stoppedAt: null,
          stopReason: null,
          concludedAt: null,
        });
        // The cast: TypeORM's deep-partial insert type can't express the alerts' free-form `details`
        // nor recurse through a JSON value's type.
        await manager.insert(ExperimentEntity, entity as unknown as QueryDeepPartialEntity<Omit<ExperimentEntity, 'defaultValue' | 'variants' | 'alerts'>>);
        const dto = toExperimentDto(entity, []);
        await this.audit.recordConfigChange(manager, principal, { action: 'experiment.create', entityType: 'experiment', entityKey: entity.key, before: null, after: dto });
        return dto;
      }),
    );
  }

  async list(query: ListQuery): Promise<Page<ExperimentDto>> {
    const qb = this.dataSource.manager.createQueryBuilder(ExperimentEntity, 'e');
    if (query.status) qb.andWhere('e.status = :status', { status: query.status });
    if (query.layer) qb.andWhere('e.layer_key = :layer', { layer: query.layer });
    if (query.search) {
      qb.andWhere("(e.key ILIKE :search ESCAPE '\\' OR e.name ILIKE :search ESCAPE '\\')", {
        search: `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      });
    }
    const [rows, total] = await qb.orderBy('e.created_at', 'DESC').addOrderBy('e.key', 'ASC').take(query.limit).skip(query.offset).getManyAndCount();
    // One ledger query for the whole page, not one per row.
    const ranges = await this.ledger.rangesOfMany(this.dataSource.manager, rows.map((e) => e.key));
    const items = rows.map((e) => toExperimentDto(e, ranges.get(e.key) ?? []));
    return { items, total, limit: query.limit, offset: query.offset };
  }

  async get(key: string): Promise<ExperimentDto> {
    const e = await this.dataSource.manager.findOne(ExperimentEntity, { where: { key } });
    if (!e) throw new NotFoundException('experiment', key);
    return toExperimentDto(e, await this.ledger.rangesOf(this.dataSource.manager, key));
  }

  async update(principal: Principal, key: string, request: UpdateExperiment): Promise<ExperimentDto> {
    return this.change(principal, key, 'experiment.update', async (manager, e) => {
      const locked: ErrorDetail[] = [];
      const valueType = request.valueType !== undefined ? request.valueType : e.valueType;
      if (e.status !== 'draft') {
        // A variant's value is its treatment: changing it mid-run would mix two treatments in one
        // arm of the analysis, so values are locked with the variants (and so is their type). The
        // default value is not: units that get it are not in the experiment's sample.
        if (request.variants !== undefined && variantsSignature(toVariants(request.variants, valueType)) !== variantsSignature(e.variants)) {
          locked.push({ path: 'variants', message: `variants, weights and values cannot change once an experiment has started (status: ${e.status})` });
        }
        if (request.valueType !== undefined && request.valueType !== e.valueType) locked.push({ path: 'valueType', message: `the value type cannot change once an experiment has started (status: ${e.status})` });
        if (request.layer !== undefined && request.layer !== e.layerKey) locked.push({ path: 'layer', message: `the layer cannot change once an experiment has started (status: ${e.status})` });
        // Changing what is measured mid-run would turn a pre-registered test into a search for a winner.
        const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
        if (request.primaryMetric !== undefined && request.primaryMetric !== e.primaryMetric) {
          locked.push({ path: 'primaryMetric', message: `the primary metric cannot change once an experiment has started (status: ${e.status})` });
        }
        if (request.secondaryMetrics !== undefined && !same(request.secondaryMetrics, e.secondaryMetrics)) {
          locked.push({ path: 'secondaryMetrics', message: `secondary metrics cannot change once an experiment has started (status: ${e.status})` });
        }
        if (request.guardrailMetrics !== undefined && !same(request.guardrailMetrics, e.guardrailMetrics)) {
          locked.push({ path: 'guardrailMetrics', message: `guardrail metrics cannot change once an experiment has started (status: ${e.status})` });
        }
        if (request.traffic !== undefined && e.status !== 'running') locked.push({ path: 'traffic', message: `traffic cannot change on a ${e.status} experiment` });
      }
      if (locked.length) {
        throw new AppException('locked_while_running', `Cannot change ${locked.map((d) => d.path).join(', ')} of experiment "${key}" while it is ${e.status}; stop it and create a new experiment to change them.`, locked);
      }
      const merged = { layer: request.layer ?? e.layerKey, variants: request.variants ?? e.variants, forcedVariants: request.forcedVariants ?? e.forcedVariants, primaryMetric: request.primaryMetric, secondaryMetrics: request.secondaryMetrics, guardrailMetrics: request.guardrailMetrics };
      // An archived metric the experiment already measures may stay; only new references are refused.
      const measured = new Set([...(e.primaryMetric ? [e.primaryMetric] : []), ...e.secondaryMetrics, ...e.guardrailMetrics]);
      await this.checkReferences(manager, merged, measured);
      if (request.name !== undefined) e.name = request.name;
      if (request.hypothesis !== undefined) e.hypothesis = request.hypothesis;
      if (request.layer !== undefined) e.layerKey = request.layer;
      if (request.variants !== undefined) e.variants = toVariants(request.variants, valueType);
      if (request.valueType !== undefined) e.valueType = request.valueType;
      if (request.defaultValue !== undefined) e.defaultValue = request.defaultValue;
      if (e.valueType === null) {
        // No type, no values: what was stored goes, so the experiment reads back consistent.
        if (request.defaultValue !== undefined && request.defaultValue !== null) {
          throw new AppException('validation_failed', 'A default value needs a valueType.', [{ path: 'defaultValue', message: 'set valueType to give a default value' }]);
        }
        e.defaultValue = null;
        e.variants = e.variants.map(({ value: _value, ...v }) => v);
      }
      checkStoredValues(e.valueType, e.defaultValue, e.variants, request.variants !== undefined);
      if (request.targeting !== undefined) e.targeting = request.targeting;
      if (request.forcedVariants !== undefined) e.forcedVariants = request.forcedVariants.map((f) => ({ unitId: f.unitId, variant: f.variant, expiresAt: f.expiresAt ?? null }));
      if (request.primaryMetric !== undefined) e.primaryMetric = request.primaryMetric;
      if (request.secondaryMetrics !== undefined) e.secondaryMetrics = request.secondaryMetrics;
      if (request.guardrailMetrics !== undefined) e.guardrailMetrics = request.guardrailMetrics;
      if (request.plannedSampleSize !== undefined) e.plannedSampleSize = request.plannedSampleSize;
      // Allowed while running: the definition hash changes, so the engine rebuilds this experiment once (docs/analysis.md).
      if (request.segmentDimensions !== undefined) e.segmentDimensions = request.segmentDimensions;
      if (request.minDurationDays !== undefined) e.minDurationDays = request.minDurationDays;
      if (request.autoStop !== undefined) e.autoStop = request.autoStop;
      if (request.traffic !== undefined) {
        e.trafficBuckets = trafficToBuckets(request.traffic);
        if (e.status === 'running') await this.ledger.resize(manager, e.layerKey, e.key, e.trafficBuckets);
      }
      // Forced variants must name variants the experiment has, after the change.
      const variantKeys = new Set(e.variants.map((v) => v.key));
      const badForced = e.forcedVariants.findIndex((f) => !variantKeys.has(f.variant));
      if (badForced >= 0) {
        throw new AppException('validation_failed', 'A forced variant names a variant the experiment does not have.', [
          { path: `forcedVariants.${badForced}.variant`, message: `unknown variant "${e.forcedVariants[badForced]?.variant}"` },
        ]);
      }
    });
  }

  /**
   * `startedAt` (ISO-8601, default now) may be up to 7 days back: exposures earlier than the start
   * (5 minutes' clock skew allowed) are rejected by the collector, so a backdated start is how
   * earlier traffic — a flag live before it was started here, a backfill, the demo — is admitted.
   */
  start(principal: Principal, key: string, startedAt?: string): Promise<ExperimentDto> {
    const now = Date.now();
    const at = startedAt === undefined ? now : Date.parse(startedAt);
    if (at > now || at < now - EVENT_MAX_AGE_MS) {
      throw new AppException('validation_failed', 'startedAt must be in the last 7 days and not in the future.', [
        { path: 'startedAt', message: 'must be within the last 7 days and not in the future' },
      ]);
    }
    return this.change(principal, key, 'experiment.start', async (manager, e) => {
      this.expectStatus(e, ['draft'], 'start');
      await this.ledger.resize(manager, e.layerKey, e.key, e.trafficBuckets);
      e.status = 'running';
      e.startedAt = new Date(at);
    });
  }

  /** Ramping up only adds buckets (units already in stay in); ramping down releases the newest. */
  ramp(principal: Principal, key: string, traffic: number): Promise<ExperimentDto> {
    return this.dataSource.transaction((manager) => this.rampIn(manager, principal, key, traffic));
  }

  /**
   * `ramp` inside the caller's transaction (a rollout step change commits with its plan and history).
   * On a staged ship it sets the ship share instead: raising it only adds units (the ship draw is
   * fixed), lowering it keeps the winner for exactly the units the lower share covers. A full ship
   * has no share to ramp (409, as before).
   */
  rampIn(manager: EntityManager, principal: Principal, key: string, traffic: number, action = 'experiment.ramp'): Promise<ExperimentDto> {
    return this.changeIn(manager, principal, key, action, async (m, e) => {
      if (e.status === 'shipped' && e.shipBuckets !== null) {
        e.shipBuckets = trafficToBuckets(traffic);
        return;
      }
      this.expectStatus(e, ['draft', 'running'], 'ramp');
      e.trafficBuckets = trafficToBuckets(traffic);
      if (e.status === 'running') await this.ledger.resize(m, e.layerKey, e.key, e.trafficBuckets);
    });
  }

  stop(principal: Principal, key: string, reason: string | undefined, action = 'experiment.stop'): Promise<ExperimentDto> {
    return this.change(principal, key, action, async (manager, e) => {
      this.expectStatus(e, ['running'], 'stop');
      await this.ledger.releaseAll(manager, e.layerKey, e.key);
      e.status = 'stopped';
      e.stoppedAt = new Date();
      e.stopReason = reason ?? null;
    });
  }

  /** `traffic` (percent of targeted units) stages the ship; undefined ships to everyone in targeting. */
  ship(principal: Principal, key: string, variant: string, traffic?: number): Promise<ExperimentDto> {
    return this.dataSource.transaction((manager) => this.shipIn(manager, principal, key, variant, traffic));
  }

  /** `ship` inside the caller's transaction (a staged ship by plan commits with its plan). */
  shipIn(manager: EntityManager, principal: Principal, key: string, variant: string, traffic?: number): Promise<ExperimentDto> {
    return this.changeIn(manager, principal, key, 'experiment.ship', async (manager, e) => {
      this.expectStatus(e, ['running'], 'ship');
      if (!e.variants.some((v) => v.key === variant)) {
        throw new AppException('validation_failed', `Experiment "${key}" has no variant "${variant}".`, [{ path: 'variant', message: `must be one of ${e.variants.map((v) => v.key).join(', ')}` }]);
      }
      // Shipped experiments give everyone in targeting the winner, so they hold no buckets.
      await this.ledger.releaseAll(manager, e.layerKey, e.key);
      e.status = 'shipped';
      e.shippedVariant = variant;
      e.shipBuckets = traffic === undefined ? null : trafficToBuckets(traffic);
      e.stoppedAt = new Date();
    });
  }

  /**
   * The experiment's code is gone from the app: it leaves assign replies and the SDK config (the
   * snapshot holds running and shipped experiments only). Its results, exports and audit stay;
   * the collector still knows it, so exposures logged before (and arriving up to 7 days late
   * after a stop) are still checked as before. Final: no lifecycle action leads out of it.
   */
  conclude(principal: Principal, key: string): Promise<ExperimentDto> {
    return this.change(principal, key, 'experiment.conclude', async (manager, e) => {
      this.expectStatus(e, ['shipped', 'stopped'], 'conclude');
      // Stopped and shipped experiments hold no buckets; released again in case of an old row.
      await this.ledger.releaseAll(manager, e.layerKey, e.key);
      e.status = 'concluded';
      e.concludedAt = new Date();
    });
  }

  /**
   * A new salt re-randomizes who gets which variant: an explicit, audited action, before the start
   * only. Not once stopped either: late exposures (up to 7 days) are validated against the salt
   * they were assigned with, and a stopped experiment never runs again.
   */
  rerandomize(principal: Principal, key: string, salt: string | undefined): Promise<ExperimentDto> {
    return this.change(principal, key, 'experiment.rerandomize', async (_manager, e) => {
      this.expectStatus(e, ['draft'], 're-randomize');
      e.salt = salt ?? `${key}-${randomBytes(4).toString('hex')}`;
    });
  }

  /** Raised by the guardrail job when auto-stop is off (or alongside an auto-stop). */
  addAlert(principal: Principal, key: string, alert: ExperimentAlertDto): Promise<ExperimentDto> {
    // Alerts are not part of what assignment or the collector hold: no config version bump.
    return this.change(
      principal,
      key,
      'experiment.alert',
      async (_manager, e) => {
        e.alerts = [...e.alerts.filter((a) => !(a.kind === alert.kind && a.message === alert.message)), alert].slice(-50);
      },
      { affectsServedConfig: false },
    );
  }

  async remove(principal: Principal, key: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const e = await manager.findOne(ExperimentEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
      if (!e) throw new NotFoundException('experiment', key);
      if (e.status !== 'draft') throw new AppException('invalid_transition', `Only draft experiments can be deleted; "${key}" is ${e.status}.`);
      const before = toExperimentDto(e, []);
      await manager.query('DELETE FROM bucket_allocations WHERE experiment_key = $1', [key]);
      await manager.delete(ExperimentEntity, { key });
      await this.audit.recordConfigChange(manager, principal, { action: 'experiment.delete', entityType: 'experiment', entityKey: key, before, after: null });
    });
  }

  private expectStatus(e: ExperimentEntity, allowed: ExperimentEntity['status'][], verb: string): void {
    if (!allowed.includes(e.status)) {
      throw new AppException('invalid_transition', `Cannot ${verb} experiment "${e.key}": it is ${e.status} (allowed from: ${allowed.join(', ')}).`, [
        { path: 'status', message: `is ${e.status}`, status: e.status, allowed },
      ]);
    }
  }

  private async change(
    principal: Principal,
    key: string,
    action: string,
    mutate: (manager: EntityManager, e: ExperimentEntity) => Promise<void>,
    options: { affectsServedConfig?: boolean } = {},
  ): Promise<ExperimentDto> {
    return this.dataSource.transaction((manager) => this.changeIn(manager, principal, key, action, mutate, options));
  }

  private async changeIn(
    manager: EntityManager,
    principal: Principal,
    key: string,
    action: string,
    mutate: (manager: EntityManager, e: ExperimentEntity) => Promise<void>,
    options: { affectsServedConfig?: boolean } = {},
  ): Promise<ExperimentDto> {
    const e = await manager.findOne(ExperimentEntity, { where: { key }, lock: { mode: 'pessimistic_write' } });
    if (!e) throw new NotFoundException('experiment', key);
    const before = toExperimentDto(e, await this.ledger.rangesOf(manager, key));
    await mutate(manager, e);
    const saved = await manager.save(e);
    const after = toExperimentDto(saved, await this.ledger.rangesOf(manager, key));
    const entry = { action, entityType: 'experiment', entityKey: key, before, after } as const;
    if (options.affectsServedConfig === false) await this.audit.record(manager, principal, entry);
    else await this.audit.recordConfigChange(manager, principal, entry);
    return after;
  }

  private async checkReferences(
    manager: EntityManager,
    e: { layer: string; primaryMetric?: string | null; secondaryMetrics?: string[]; guardrailMetrics?: string[] },
    /** Metrics already measured by the experiment: allowed even when archived since. */
    measured: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    const details: ErrorDetail[] = [];
    if (!(await manager.exists(LayerEntity, { where: { key: e.layer } }))) details.push({ path: 'layer', message: `no layer with key "${e.layer}"` });
    const refs: { path: string; key: string }[] = [];
    if (e.primaryMetric) refs.push({ path: 'primaryMetric', key: e.primaryMetric });
    (e.secondaryMetrics ?? []).forEach((k, i) => refs.push({ path: `secondaryMetrics.${i}`, key: k }));
    (e.guardrailMetrics ?? []).forEach((k, i) => refs.push({ path: `guardrailMetrics.${i}`, key: k }));
    if (refs.length) {
      const found = await manager.find(MetricEntity, { where: { key: In(refs.map((r) => r.key)) }, select: { key: true, archivedAt: true } });
      const known = new Map(found.map((m) => [m.key, m]));
      for (const r of refs) {
        const m = known.get(r.key);
        if (!m) details.push({ path: r.path, message: `no metric with key "${r.key}"` });
        else if (m.archivedAt !== null && !measured.has(r.key)) details.push({ path: r.path, message: `metric "${r.key}" is archived; unarchive it to measure it in a new experiment` });
      }
    }
    if (details.length) throw new AppException('validation_failed', `The experiment refers to things that do not exist or are archived: ${details.map((d) => d.message).join('; ')}.`, details);
  }
}
