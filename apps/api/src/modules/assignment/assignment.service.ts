import { Inject, Injectable } from '@nestjs/common';
import { defaultsFor, evaluate, explain, holdoutExposures, shipExposures, type CompiledSnapshot, type Explanation } from '@strata/bucketing';
import type {
  Assignment,
  assignRequestSchema,
  AssignResponse,
  Attributes,
  batchAssignRequestSchema,
  BatchAssignResponse,
  BatchAssignResult,
  explainQuerySchema,
} from '@strata/contracts';
import type { z } from 'zod';
import { AppException } from '../../common/errors/app.exception';
import { ConfigStateService } from '../config-state/config-state.service';
import type { ExposureRecord } from '../event/ingest/exposure-rows';
import { EXPOSURE_SINK, type ExposureSink } from './exposure-sink';

type AssignInput = z.output<typeof assignRequestSchema>;
type BatchAssignInput = z.output<typeof batchAssignRequestSchema>;
type ExplainInput = z.output<typeof explainQuerySchema>;

const NO_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * Assigns units to variants from the in-memory snapshot.
 *
 * HOT PATH: `assign` and `assignBatch` must not touch the database (no query per assignment
 * or per request: the snapshot is rebuilt off the request path by ConfigStateService), must
 * not read the clock unless exposures are logged, and allocate little beyond the result
 * (assignment objects are frozen and shared by the compiled snapshot).
 */
@Injectable()
export class AssignmentService {
  constructor(
    private readonly snapshots: ConfigStateService,
    @Inject(EXPOSURE_SINK) private readonly exposures: ExposureSink,
  ) {}

  async assign(request: AssignInput, apiKeyId: string | null = null): Promise<AssignResponse> {
    const compiled = this.snapshots.compiled;
    const response = this.assignmentsIn(compiled, request);
    if (request.logExposures === true) {
      const exposures: ExposureRecord[] = [];
      const attributes = request.attributes ?? NO_ATTRIBUTES;
      const timestamp = Date.now();
      collectExposures(exposures, request.unitId, attributes, response.assignments, timestamp);
      collectComparisonExposures(exposures, compiled, request.unitId, attributes, request.experiments, timestamp);
      await this.record(exposures, apiKeyId);
    }
    return response;
  }

  /**
   * The reply to one request without logging exposures: synchronous, so the plain
   * `POST /v1/assign` route answers without a promise when `logExposures` is not set.
   */
  assignmentsFor(request: AssignInput): AssignResponse {
    return this.assignmentsIn(this.snapshots.compiled, request);
  }

  private assignmentsIn(compiled: CompiledSnapshot, request: AssignInput): AssignResponse {
    const assignments = evaluate(compiled, request.unitId, request.attributes ?? NO_ATTRIBUTES, request.experiments);
    const defaults = defaultsFor(compiled, assignments, request.experiments);
    return defaults === undefined ? { assignments } : { assignments, defaults };
  }

  async assignBatch(request: BatchAssignInput, apiKeyId: string | null = null): Promise<BatchAssignResponse> {
    // One snapshot for the whole batch, even if a rebuild lands halfway through.
    const compiled = this.snapshots.compiled;
    const results: BatchAssignResult[] = new Array<BatchAssignResult>(request.units.length);
    for (let i = 0; i < request.units.length; i++) {
      const unit = request.units[i];
      const assignments = evaluate(compiled, unit.unitId, unit.attributes ?? NO_ATTRIBUTES, request.experiments);
      const defaults = defaultsFor(compiled, assignments, request.experiments);
      results[i] = defaults === undefined ? { unitId: unit.unitId, assignments } : { unitId: unit.unitId, assignments, defaults };
    }
    if (request.logExposures === true) {
      const exposures: ExposureRecord[] = [];
      const timestamp = Date.now();
      for (let i = 0; i < results.length; i++) {
        const attributes = request.units[i].attributes ?? NO_ATTRIBUTES;
        collectExposures(exposures, results[i].unitId, attributes, results[i].assignments, timestamp);
        collectComparisonExposures(exposures, compiled, results[i].unitId, attributes, request.experiments, timestamp);
      }
      await this.record(exposures, apiKeyId);
    }
    return { results };
  }

  /** Why a unit has (or lacks) an assignment in one experiment. Admin tool, not a hot path. */
  explain(query: ExplainInput): Explanation {
    return explain(this.snapshots.compiled, query.unitId, query.attributes, query.experiment);
  }

  private async record(exposures: ExposureRecord[], apiKeyId: string | null): Promise<void> {
    if (exposures.length === 0) return;
    try {
      await this.exposures.record(exposures, apiKeyId);
    } catch (error) {
      // The collector's own 503 (queue full, database down) carries its Retry-After: pass it on.
      if (error instanceof AppException) throw error;
      // The caller asked for exposures to be logged: say it failed so it can retry, rather than
      // return assignments whose exposures silently went missing.
      throw new AppException('unavailable', 'Assignments were computed but their exposures could not be recorded; retry the request.');
    }
  }
}

/** Only `bucketed` assignments are exposures: forced units and shipped winners are not in the experiment's sample. */
function collectExposures(out: ExposureRecord[], unitId: string, attributes: Attributes, assignments: readonly Assignment[], timestamp: number): void {
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    if (a.reason === 'bucketed') out.push({ unitId, experiment: a.experiment, variant: a.variant, attributes, timestamp });
  }
}

/**
 * The comparison exposures one evaluation adds, for both arms alike: one per holdout covering a
 * layer it looked at (`holdout:<key>`, variant `holdout` or `rest`: the sample is every unit
 * evaluated in the covered layers, whichever arm it fell in) and one per staged ship below 100 %
 * that targets the unit (`ship:<key>`, variant `winner` or `default`: the engine compares the
 * winner with the default on the guardrails, docs/rollouts.md "Ship as a rollout"). Only when
 * exposures are logged.
 */
function collectComparisonExposures(
  out: ExposureRecord[],
  compiled: CompiledSnapshot,
  unitId: string,
  attributes: Attributes,
  experimentKeys: readonly string[] | undefined,
  timestamp: number,
): void {
  for (const h of holdoutExposures(compiled, unitId, experimentKeys)) out.push({ unitId, experiment: h.holdout.exposureKey, variant: h.arm, attributes, timestamp });
  for (const x of shipExposures(compiled, unitId, attributes, experimentKeys)) out.push({ unitId, experiment: x.exposureKey, variant: x.arm, attributes, timestamp });
}
