import type { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import type { EventRejection, ImportResponse } from '@strata/contracts';
import { AppException } from '../../../common/errors/app.exception';
import type { Principal } from '../../../common/guards/principal';
import { EventStats } from './event-stats';
import { validateEvents } from './event-validator';
import { EventWriter } from '../store/event-writer';
import { EventsUnavailableException } from '../event.exception';
import { ExperimentCatalog } from '../../config-state/experiment-catalog';
import { LineTooLongError, ndjsonLines } from './ndjson-lines';

/** Lines validated and written per step: memory stays bounded whatever the body size. */
export const IMPORT_CHUNK_LINES = 5000;
/** Rejected lines listed in the answer; the rest are only counted. */
export const IMPORT_MAX_LISTED_REJECTIONS = 100;

/**
 * `POST /v1/events/import`: an NDJSON backfill, read line by line as it streams in and written in
 * chunks through the same validator and group-commit writer as `POST /v1/events`. Reading pauses
 * while a chunk is being committed, so a fast client is slowed to the database's pace.
 */
@Injectable()
export class EventImportService {
  private readonly logger = new Logger('event-import');

  constructor(
    private readonly writer: EventWriter,
    private readonly catalog: ExperimentCatalog,
    private readonly stats: EventStats,
  ) {}

  async importNdjson(principal: Principal, body: unknown): Promise<ImportResponse> {
    if (!isReadable(body)) {
      throw new AppException('unsupported_media_type', 'Send the import as NDJSON (Content-Type: application/x-ndjson), one event per line.');
    }
    const out: ImportResponse = { lines: 0, accepted: 0, duplicates: 0, rejectedCount: 0, rejectedByCode: {}, rejected: [], truncated: false };
    const note = (rejected: EventRejection[]): void => {
      this.stats.countRejected(rejected);
      for (const r of rejected) {
        out.rejectedCount++;
        out.rejectedByCode[r.code] = (out.rejectedByCode[r.code] ?? 0) + 1;
        if (out.rejected.length < IMPORT_MAX_LISTED_REJECTIONS) out.rejected.push(r);
        else out.truncated = true;
      }
    };
    let events: unknown[] = [];
    let lineNumbers: number[] = [];
    const flush = async (): Promise<void> => {
      const { rows, rejected } = validateEvents(events, { experiment: (k) => this.catalog.get(k), now: Date.now(), apiKeyId: principal.keyId }, lineNumbers);
      note(rejected);
      const firstLine = lineNumbers[0] ?? out.lines + 1;
      events = [];
      lineNumbers = [];
      let result;
      try {
        result = await this.writer.write(rows, true);
      } catch (error) {
        if (error instanceof EventsUnavailableException) {
          this.stats.unavailable++;
          // Say how far we got: lines before this chunk are committed; re-sending the file is safe for events with ids.
          throw new AppException(
            'unavailable',
            `${error.message} Lines before ${firstLine} were committed (${out.accepted} new events stored); re-sending is safe for events with ids.`,
            [...error.details, { path: '', message: 'progress', committedBeforeLine: firstLine, accepted: out.accepted, duplicates: out.duplicates }],
            error.headers,
          );
        }
        throw error;
      }
      out.accepted += result.accepted;
      out.duplicates += result.duplicates;
      this.stats.count(result.accepted, result.duplicates, []);
    };
    try {
      for await (const line of ndjsonLines(body)) {
        out.lines++;
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          note([{ index: out.lines, code: 'invalid_event', message: 'line is not valid JSON' }]);
          continue;
        }
        events.push(value);
        lineNumbers.push(out.lines);
        if (events.length >= IMPORT_CHUNK_LINES) await flush();
      }
    } catch (error) {
      if (error instanceof LineTooLongError) throw new AppException('payload_too_large', `${error.message}; nothing after it was read.`);
      if (error === body.errored) {
        // The request stream itself failed: the client hung up mid-body ("aborted"). Its
        // problem, not ours, and nobody is left to read an answer: a warning, not a logged 500.
        const committedBefore = lineNumbers[0] ?? out.lines + 1;
        this.logger.warn(
          `import stopped at line ${out.lines + 1}: the request body ended early (${String(error)}); lines before ${committedBefore} were committed (${out.accepted} new events).`,
        );
        throw new AppException(
          'bad_request',
          `The request body ended early; lines before ${committedBefore} were committed (${out.accepted} new events stored).`,
        );
      }
      throw error;
    }
    await flush();
    return out;
  }
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function';
}
