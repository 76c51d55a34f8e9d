import { Injectable } from '@nestjs/common';
import { BUCKETS_PER_LAYER, type BucketLedgerEntryDto, type BucketRange } from '@strata/contracts';
import { type EntityManager, In, IsNull, MoreThan, Not } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { countBuckets, normalize, planRelease, planReservation, type ReservationHistory } from './bucket-allocator';
import { BucketAllocationEntity } from './bucket-allocation.entity';
import { LayerEntity } from './layer.entity';

export function toLedgerDto(a: BucketAllocationEntity): BucketLedgerEntryDto {
  return {
    id: String(a.id),
    layer: a.layerKey,
    experiment: a.experimentKey,
    start: a.start,
    end: a.end,
    reservedAt: a.reservedAt.toISOString(),
    releasedAt: a.releasedAt?.toISOString() ?? null,
  };
}

/**
 * Reserves and releases an experiment's buckets in its layer. Every method runs inside the
 * caller's transaction and first locks the layer row, so concurrent starts and ramps in one
 * layer are serialised and two running experiments never hold the same bucket (the
 * database's exclusion constraint backs this up).
 */
/** Buckets another experiment released less than this long ago are used last (its effects may linger in those units). */
export const BUCKET_COOL_DOWN_MS = 7 * 86_400_000;

@Injectable()
export class BucketLedgerService {
  async lockLayer(manager: EntityManager, layerKey: string): Promise<void> {
    await manager.findOne(LayerEntity, { where: { key: layerKey }, lock: { mode: 'pessimistic_write' } });
  }

  async liveAllocations(manager: EntityManager, layerKey: string): Promise<BucketAllocationEntity[]> {
    return manager.find(BucketAllocationEntity, { where: { layerKey, releasedAt: IsNull() }, order: { start: 'ASC' } });
  }

  /** Grows or shrinks the experiment's holding to exactly `target` buckets. */
  async resize(manager: EntityManager, layerKey: string, experimentKey: string, target: number): Promise<BucketRange[]> {
    await this.lockLayer(manager, layerKey);
    const live = await this.liveAllocations(manager, layerKey);
    const mine = live.filter((a) => a.experimentKey === experimentKey);
    const held = countBuckets(mine);
    const now = new Date();
    if (target > held) {
      const plan = planReservation(live, target - held, await this.history(manager, layerKey, experimentKey, now));
      if (!plan) {
        const free = BUCKETS_PER_LAYER - countBuckets(live);
        const needed = target - held;
        throw new AppException(
          'insufficient_capacity',
          `Layer "${layerKey}" has ${free} free buckets (${(free / 100).toFixed(2)}% of traffic); this change needs ${needed} more (${(needed / 100).toFixed(2)}%).`,
          [{ path: 'traffic', message: 'not enough free buckets in the layer', freeBuckets: free, freePercent: free / 100, neededBuckets: needed }],
        );
      }
      for (const r of plan) {
        await manager.insert(BucketAllocationEntity, { layerKey, experimentKey, start: r.start, end: r.end, reservedAt: now, releasedAt: null });
      }
    } else if (target < held) {
      const release = planRelease(
        mine.map((a) => ({ id: String(a.id), start: a.start, end: a.end, reservedAt: a.reservedAt })),
        held - target,
      );
      for (const id of release.release) await manager.update(BucketAllocationEntity, { id }, { releasedAt: now });
      if (release.shrink) {
        const row = mine.find((a) => String(a.id) === release.shrink?.id);
        if (row) {
          // The ledger keeps the released tail as its own history row; the kept head keeps its reservation time.
          await manager.update(BucketAllocationEntity, { id: row.id }, { end: release.shrink.keepEnd });
          await manager.insert(BucketAllocationEntity, {
            layerKey,
            experimentKey,
            start: release.shrink.keepEnd,
            end: row.end,
            reservedAt: row.reservedAt,
            releasedAt: now,
          });
        }
      }
    }
    return this.rangesOf(manager, experimentKey);
  }

  /** What the planner needs from the ledger's history: this experiment's released ranges, and others' recent ones. */
  private async history(manager: EntityManager, layerKey: string, experimentKey: string, now: Date): Promise<ReservationHistory> {
    const own = await manager.find(BucketAllocationEntity, { where: { layerKey, experimentKey, releasedAt: Not(IsNull()) } });
    const cooling = await manager.find(BucketAllocationEntity, {
      where: { layerKey, experimentKey: Not(experimentKey), releasedAt: MoreThan(new Date(now.getTime() - BUCKET_COOL_DOWN_MS)) },
    });
    const released = (rows: BucketAllocationEntity[]) => rows.map((r) => ({ start: r.start, end: r.end, releasedAt: r.releasedAt as Date }));
    return { own: released(own), cooling: released(cooling) };
  }

  async releaseAll(manager: EntityManager, layerKey: string, experimentKey: string): Promise<void> {
    await this.lockLayer(manager, layerKey);
    await manager.update(BucketAllocationEntity, { experimentKey, releasedAt: IsNull() }, { releasedAt: new Date() });
  }

  async rangesOf(manager: EntityManager, experimentKey: string): Promise<BucketRange[]> {
    const rows = await manager.find(BucketAllocationEntity, { where: { experimentKey, releasedAt: IsNull() } });
    return normalize(rows.map((r) => ({ start: r.start, end: r.end })));
  }

  /** The live ranges of many experiments in one query (lists must not query per row). */
  async rangesOfMany(manager: EntityManager, experimentKeys: readonly string[]): Promise<Map<string, BucketRange[]>> {
    const out = new Map<string, BucketRange[]>();
    if (experimentKeys.length === 0) return out;
    const rows = await manager.find(BucketAllocationEntity, { where: { experimentKey: In([...experimentKeys]), releasedAt: IsNull() } });
    const byKey = new Map<string, { start: number; end: number }[]>();
    for (const r of rows) {
      const list = byKey.get(r.experimentKey);
      if (list) list.push({ start: r.start, end: r.end });
      else byKey.set(r.experimentKey, [{ start: r.start, end: r.end }]);
    }
    for (const [key, list] of byKey) out.set(key, normalize(list));
    return out;
  }
}
