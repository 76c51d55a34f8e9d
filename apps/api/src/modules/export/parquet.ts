import { Transform, type TransformCallback } from 'node:stream';
import { ByteWriter, ParquetWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';

/** Column types of a Parquet export: text, floating point, true/false, or a millisecond timestamp. */
export type ParquetColumnType = 'STRING' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';
export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
}

/**
 * Rows per row group. The encoder holds at most one group of rows (and its encoded bytes) at a
 * time, so memory stays bounded by this whatever the export's size; 10,000 rows of a dozen
 * columns is a few MB, and readers (pandas, DuckDB, Spark) skip and parallelise by row group.
 */
export const PARQUET_ROW_GROUP = 10_000;

/** A ByteWriter that hands its bytes to the stream after each row group instead of keeping the file. */
class ChunkWriter extends ByteWriter {
  constructor(private readonly emit: (chunk: Buffer) => void) {
    super(1 << 16);
  }

  flush(): void {
    if (this.index === 0) return;
    // Copy out: the writer reuses its buffer for the next group.
    this.emit(Buffer.from(new Uint8Array(this.buffer, 0, this.index)));
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }
}

function cell(type: ParquetColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'STRING':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'DOUBLE': {
      // PostgreSQL numeric and bigint arrive as strings.
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : value === 'true' || value === 't';
    case 'TIMESTAMP':
      return value instanceof Date ? value : new Date(String(value));
  }
}

/**
 * Object rows in, Apache Parquet bytes out (hyparquet-writer: pure JavaScript, snappy-compressed
 * pages, column statistics), one row group per PARQUET_ROW_GROUP rows. Backpressure is the stream's:
 * a slow client stops the cursor that feeds it.
 */
export function parquetStream(columns: readonly ParquetColumn[], metadata: Record<string, string> = {}): Transform {
  let rows: Record<string, unknown>[] = [];
  let writer: ParquetWriter | null = null;
  const columnData = (batch: Record<string, unknown>[]): ColumnSource[] =>
    columns.map((c) => ({ name: c.name, type: c.type, nullable: true, data: batch.map((r) => cell(c.type, r[c.name])) }));

  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 256,
    transform(row: Record<string, unknown>, _enc, cb: TransformCallback) {
      rows.push(row);
      if (rows.length < PARQUET_ROW_GROUP) return cb();
      try {
        writeGroup();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (rows.length > 0 || writer === null) writeGroup();
        // Synchronous: ChunkWriter.finish returns nothing to wait for.
        void writer?.finish();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });

  function writeGroup(): void {
    const data = columnData(rows);
    rows = [];
    if (writer === null) {
      writer = new ParquetWriter({
        writer: new ChunkWriter((chunk) => stream.push(chunk)),
        schema: schemaFromColumnData({ columnData: data }),
        createdBy: 'strata',
        kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      });
    }
    // An empty export still gets a valid file: a schema and no row group.
    if (data[0] && data[0].data.length === 0) return;
    void writer.write({ columnData: data, rowGroupSize: PARQUET_ROW_GROUP });
  }

  return stream;
}
