import { pipeline, Readable, type Transform } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { resultsQuerySchema, type ExperimentResultsDto, type InferenceDto } from '@strata/contracts';
import type { DataSource, QueryRunner } from 'typeorm';
import { loadAnalysisDefinition, type AnalysisDefinition } from '../result/analysis-definition';
import { ResultService } from '../result/result.service';
import { AnalysisEngineService } from '../analysis/analysis-engine.service';
import { standaloneAggregateSql, unitValueExpressions } from '../result/rollup-sql';
import { csvStream, csvString, ndjsonStream } from './csv';
import { parquetStream, type ParquetColumn } from './parquet';

/**
 * Rows fetched per round trip from the server-side cursor: memory stays bounded by this. Small on
 * purpose: rows that wait long in buffers get promoted to the old generation and inflate RSS.
 */
export const FETCH_ROWS = 250;

export const RESULT_COLUMNS = [
  'experiment', 'data_through', 'metric', 'metric_name', 'metric_type', 'direction', 'role', 'variant', 'is_control',
  'units', 'mean', 'sum', 'sd',
  'abs_estimate', 'abs_ci_low', 'abs_ci_high', 'abs_p', 'abs_seq_ci_low', 'abs_seq_ci_high', 'abs_seq_p',
  'rel_estimate', 'rel_ci_low', 'rel_ci_high', 'rel_p', 'rel_seq_ci_low', 'rel_seq_ci_high', 'rel_seq_p',
  'msprt_p', 'adjusted_p', 'cuped_theta', 'cuped_variance_reduction', 'cuped_rel_estimate', 'cuped_rel_ci_low', 'cuped_rel_ci_high',
] as const;
export type ResultRow = Record<(typeof RESULT_COLUMNS)[number], string | number | boolean | null>;

const RESULT_TEXT_COLUMNS: ReadonlySet<string> = new Set(['experiment', 'metric', 'metric_name', 'metric_type', 'direction', 'role', 'variant']);
/** Parquet types of the results table: text, the data time, the control flag, numbers. */
export const RESULT_PARQUET_COLUMNS: ParquetColumn[] = RESULT_COLUMNS.map((name) => ({
  name,
  type: name === 'data_through' ? 'TIMESTAMP' : name === 'is_control' ? 'BOOLEAN' : RESULT_TEXT_COLUMNS.has(name) ? 'STRING' : 'DOUBLE',
}));

const PARQUET_TYPE = 'application/vnd.apache.parquet';

/** Every byte of a finished stream (the results table is one row per metric × variant: small). */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function ci(e: InferenceDto | undefined, side: 0 | 1): number | null {
  return e?.ci ? e.ci[side] : null;
}

/** One row per metric × variant with every number of the results page. */
export function resultRows(r: ExperimentResultsDto): ResultRow[] {
  return r.metrics.flatMap((m) =>
    m.variants.map((v) => ({
      experiment: r.experiment, data_through: r.dataThrough, metric: m.metric, metric_name: m.name, metric_type: m.type, direction: m.direction, role: m.role,
      variant: v.variant, is_control: v.isControl, units: v.units, mean: v.mean, sum: v.sum, sd: v.sd,
      abs_estimate: v.absolute?.fixed.estimate ?? null, abs_ci_low: ci(v.absolute?.fixed, 0), abs_ci_high: ci(v.absolute?.fixed, 1), abs_p: v.absolute?.fixed.pValue ?? null,
      abs_seq_ci_low: ci(v.absolute?.sequential, 0), abs_seq_ci_high: ci(v.absolute?.sequential, 1), abs_seq_p: v.absolute?.sequential.pValue ?? null,
      rel_estimate: v.relative?.fixed.estimate ?? null, rel_ci_low: ci(v.relative?.fixed, 0), rel_ci_high: ci(v.relative?.fixed, 1), rel_p: v.relative?.fixed.pValue ?? null,
      rel_seq_ci_low: ci(v.relative?.sequential, 0), rel_seq_ci_high: ci(v.relative?.sequential, 1), rel_seq_p: v.relative?.sequential.pValue ?? null,
      msprt_p: v.msprt?.pValue ?? null, adjusted_p: v.adjustedPValue,
      cuped_theta: v.cuped?.theta ?? null, cuped_variance_reduction: v.cuped?.varianceReduction ?? null,
      cuped_rel_estimate: v.cuped?.relative.estimate ?? null, cuped_rel_ci_low: ci(v.cuped?.relative, 0), cuped_rel_ci_high: ci(v.cuped?.relative, 1),
    })),
  );
}

export interface ExportFile {
  stream: Readable;
  type: string;
  filename: string;
}

/**
 * Exports for analysts: the results table, one row per unit (streamed from a server-side
 * cursor, never held whole in memory), and the SQL behind the aggregates.
 */
@Injectable()
export class ExportService {
  private readonly logger = new Logger(ExportService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly results: ResultService,
    private readonly engine: AnalysisEngineService,
  ) {}

  async resultsTable(key: string, format: 'csv' | 'json' | 'parquet'): Promise<{ body: string | Buffer; type: string; filename: string }> {
    const r = await this.results.results(key, resultsQuerySchema.parse({}));
    const rows = resultRows(r);
    if (format === 'parquet') {
      const body = await collect(Readable.from(rows).pipe(parquetStream(RESULT_PARQUET_COLUMNS, { 'strata.experiment': r.experiment, 'strata.data_through': r.dataThrough ?? '', 'strata.computed_at': r.computedAt })));
      return { body, type: PARQUET_TYPE, filename: `${key}-results.parquet` };
    }
    if (format === 'json') {
      return { body: JSON.stringify({ experiment: r.experiment, dataThrough: r.dataThrough, computedAt: r.computedAt, columns: RESULT_COLUMNS, rows }), type: 'application/json; charset=utf-8', filename: `${key}-results.json` };
    }
    return { body: csvString([...RESULT_COLUMNS], rows), type: 'text/csv; charset=utf-8', filename: `${key}-results.csv` };
  }

  /** Column names of the unit export: ratio metrics get numerator and denominator columns. */
  unitColumns(def: AnalysisDefinition): string[] {
    const cols = ['unit_id', 'variant', 'first_exposure_at'];
    for (const m of def.metrics) {
      if (m.type === 'ratio') cols.push(`${m.key}_numerator`, `${m.key}_denominator`);
      else cols.push(m.key);
    }
    return cols;
  }

  private unitSql(def: AnalysisDefinition): { sql: string; params: unknown[] } {
    const params: unknown[] = [def.key, null];
    const joins: string[] = [];
    const selects: string[] = ['f.unit_id AS unit_id', 'f.variant_key AS variant', 'f.first_ts AS first_exposure_at'];
    def.metrics.forEach((m, i) => {
      params.push(m.key);
      const alias = `r${i}`;
      joins.push(`LEFT JOIN unit_metric_rollups ${alias} ON ${alias}.experiment_key = f.experiment_key AND ${alias}.metric_key = $${params.length} AND ${alias}.unit_id = f.unit_id`);
      const y = unitValueExpressions(m.type).y.replace(/\br\./g, `${alias}.`);
      if (m.type === 'ratio') {
        selects.push(`coalesce(${alias}.value, 0) AS "${m.key}_numerator"`, `coalesce(${alias}.value_den, 0) AS "${m.key}_denominator"`);
      } else {
        selects.push(`coalesce(${y}, 0) AS "${m.key}"`);
      }
    });
    const sql = `SELECT ${selects.join(', ')} FROM first_exposures f ${joins.join(' ')}
      WHERE f.experiment_key = $1 AND NOT f.forced AND f.received_at <= $2 ORDER BY f.unit_id`;
    return { sql, params };
  }

  /** Parquet types of the unit export: ids and variants as text, the exposure time, metric values as doubles. */
  unitParquetColumns(def: AnalysisDefinition): ParquetColumn[] {
    return this.unitColumns(def).map((name, i) => ({ name, type: i < 2 ? 'STRING' : i === 2 ? 'TIMESTAMP' : 'DOUBLE' }));
  }

  /** One row per counted unit, at the rollup watermark, as CSV, NDJSON or Parquet. */
  async units(key: string, format: 'csv' | 'ndjson' | 'parquet'): Promise<ExportFile> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    if (def.status !== 'draft') await this.engine.catchUp();
    const watermark = await this.engine.dataThrough(def);
    const { sql, params } = this.unitSql(def);
    params[1] = watermark ?? new Date(0);
    const rows = await this.cursorStream(sql, params);
    const encoder: Transform =
      format === 'csv'
        ? csvStream(this.unitColumns(def))
        : format === 'parquet'
          ? parquetStream(this.unitParquetColumns(def), { 'strata.experiment': def.key, 'strata.data_through': watermark?.toISOString() ?? '' })
          : ndjsonStream();
    const out = pipeline(rows, encoder, (err) => {
      if (err) this.logger.warn(`unit export of ${key} ended early: ${err.message}`);
    });
    const type = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8', parquet: PARQUET_TYPE }[format];
    return { stream: out, type, filename: `${key}-units.${format}` };
  }

  /**
   * Rows of `sql` from a server-side cursor (DECLARE … CURSOR + FETCH) on a dedicated
   * connection, in a read-only REPEATABLE READ transaction so the export is one consistent
   * snapshot. The connection goes back to the pool when the stream ends, fails or is destroyed.
   */
  private async cursorStream(sql: string, params: unknown[]): Promise<Readable> {
    const qr: QueryRunner = this.dataSource.createQueryRunner();
    await qr.connect();
    let released = false;
    const release = async (commit: boolean) => {
      if (released) return;
      released = true;
      try {
        if (commit) await qr.commitTransaction();
        else await qr.rollbackTransaction();
      } catch {
        // The connection is released either way; a failed rollback only means it was already gone.
      } finally {
        await qr.release();
      }
    };
    try {
      await qr.startTransaction('REPEATABLE READ');
      await qr.query('SET TRANSACTION READ ONLY');
      await qr.query(`DECLARE strata_export NO SCROLL CURSOR FOR ${sql}`, params);
    } catch (err) {
      await release(false);
      throw err;
    }
    let busy = false;
    return new Readable({
      objectMode: true,
      highWaterMark: FETCH_ROWS,
      read() {
        if (busy) return;
        busy = true;
        qr.query(`FETCH ${FETCH_ROWS} FROM strata_export`)
          .then(async (rows: Record<string, unknown>[]) => {
            busy = false;
            if (rows.length === 0) {
              await release(true);
              this.push(null);
              return;
            }
            for (const row of rows) this.push(row);
          })
          .catch((err: unknown) => {
            busy = false;
            this.destroy(err instanceof Error ? err : new Error(String(err)));
          });
      },
      destroy(err, cb) {
        release(false).then(() => cb(err), () => cb(err));
      },
    });
  }

  /** The SQL that produces each metric's per-variant aggregates from raw events, literals inlined. */
  async sql(key: string): Promise<string> {
    const def = await loadAnalysisDefinition(this.dataSource.manager, key);
    const watermark = await this.engine.dataThrough(def);
    const header = [
      `-- Strata analysis SQL for experiment ${def.key}, events received through ${watermark?.toISOString() ?? '(no data yet)'}.`,
      '-- Each statement returns per variant: n, Σy, Σy², the CUPED covariate sums (Σc, Σc², Σcy) and the',
      '-- ratio denominator sums (Σx, Σx², Σxy). Feed them to @strata/stats (see docs/analysis.md).',
      '-- The API keeps the same numbers in analysis_stats, updated by exact deltas every engine tick.',
    ];
    return [...header, ...def.metrics.map((m) => standaloneAggregateSql(def, m, watermark))].join('\n') + '\n';
  }
}
