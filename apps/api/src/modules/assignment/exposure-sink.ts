import { Injectable } from '@nestjs/common';
import { exposureRows, type ExposureRecord } from '../event/ingest/exposure-rows';
import { EventWriter } from '../event/store/event-writer';

/** Where `logExposures` sends exposures. A token, so tests or another collector can stand in. */
export interface ExposureSink {
  /** Resolves once the exposures are durably stored. */
  record(exposures: ExposureRecord[], apiKeyId: string | null): Promise<void>;
}

export const EXPOSURE_SINK = Symbol('EXPOSURE_SINK');

/**
 * The default sink: the event collector's writer (#4), the same durable, deduplicated path as
 * `POST /v1/events`. Only `bucketed` assignments reach it, so `forced` is always false.
 */
@Injectable()
export class CollectorExposureSink implements ExposureSink {
  constructor(private readonly writer: EventWriter) {}

  async record(exposures: ExposureRecord[], apiKeyId: string | null): Promise<void> {
    await this.writer.write(exposureRows(exposures, apiKeyId));
  }
}
