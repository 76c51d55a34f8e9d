import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { EventLogBacklogDto, EventLogStatsDto } from '@strata/contracts';
import { APP_CONFIG, type AppConfig, type EventLogConfig } from '../../../config/app-config';
import type { EventRow } from '../store/event-row';
import type { WriteResult } from '../store/event-writer';
import { EventsUnavailableException } from '../event.exception';
import { encodeBatches } from './event-log-codec';

/** JetStream remembers message ids this long: a client retry within it is dropped by the stream itself. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** Room for the subject and headers of a message within the server's max_payload. */
const ENVELOPE_BYTES = 4096;
/** After a failed connect, publishes fail fast (503) for this long instead of each waiting for a timeout. */
const RECONNECT_COOLDOWN_MS = 1000;
/** A publish not acknowledged by the stream within this is answered 503 (the client retries; the message id makes that safe). */
const PUBLISH_TIMEOUT_MS = 5000;
/** Backlog figures are read from the servers at most this often. */
const BACKLOG_CACHE_MS = 1000;

export type EventLogBacklog = EventLogBacklogDto;
export type EventLogStatus = Omit<EventLogStatsDto, 'writer'>;

/**
 * The NATS JetStream connection of this process (one owner): connects lazily and keeps
 * reconnecting, creates or updates the stream and the writers' durable consumer, publishes the
 * collector's batches and reads the backlog. Only used when STRATA_EVENT_LOG is set.
 *
 * Stream: file storage, R`replicas`, work-queue retention (a batch leaves once a writer
 * acknowledged it after COMMIT), `discard: new` at max_bytes — a full log refuses publishes (503)
 * rather than dropping old batches. Works with nats-server 2.9 (no 2.10+ features: one filter
 * subject per consumer, no metadata, no per-message TTL).
 */
@Injectable()
export class EventLog implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('event-log');
  readonly config: EventLogConfig | null;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private connecting: Promise<NatsConnection> | null = null;
  private failedAt = 0;
  private closed = false;
  private lastError: string | null = null;
  private backlogCache: { at: number; value: Promise<EventLogBacklog | null> } | null = null;
  private lastBacklog: EventLogBacklog | null = null;
  readonly published = { messages: 0, events: 0, duplicateMessages: 0, failures: 0 };

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.config = config.eventLog;
  }

  get enabled(): boolean {
    return this.config !== null;
  }

  onModuleInit(): void {
    // Connect in the background: an unreachable log must not stop the API from starting (it answers 503 until the log is back).
    if (this.config) void this.connection().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const nc = this.nc ?? (await this.connecting?.catch(() => null)) ?? null;
    this.nc = null;
    if (nc && !nc.isClosed()) {
      // Acknowledgements still buffered go out before the connection closes.
      await nc.flush().catch(() => undefined);
      await nc.close().catch(() => undefined);
    }
  }

  /** The JetStream client and manager, connecting (and ensuring the stream) first if needed. */
  async client(): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
    const nc = await this.connection();
    return { nc, js: this.js as JetStreamClient, jsm: this.jsm as JetStreamManager };
  }

  /**
   * Publishes validated rows (unique ids) and resolves once JetStream has stored every message
   * (on a quorum of the stream's replicas). Throws EventsUnavailableException (503) otherwise:
   * some of the batch may be in the log then, and a retry is safe (message ids, then the ledger).
   */
  async publish(rows: EventRow[]): Promise<WriteResult> {
    const config = this.requireConfig();
    if (rows.length === 0) return { accepted: 0, duplicates: 0 };
    let js: JetStreamClient;
    let maxPayload: number;
    try {
      const c = await this.client();
      js = c.js;
      maxPayload = c.nc.info?.max_payload ?? 1024 * 1024;
    } catch {
      this.published.failures++;
      throw new EventsUnavailableException('log_unavailable', 1);
    }
    const batches = encodeBatches(rows, Math.max(64 * 1024, maxPayload - ENVELOPE_BYTES));
    try {
      const acks = await Promise.all(
        batches.map((b) => js.publish(config.subject, b.data, { msgID: b.msgId, timeout: PUBLISH_TIMEOUT_MS })),
      );
      let duplicates = 0;
      acks.forEach((ack, i) => {
        this.published.messages++;
        // The stream already holds this exact batch (a client retry within the duplicate window): its events are duplicates.
        if (ack.duplicate) {
          this.published.duplicateMessages++;
          duplicates += batches[i].rows;
        } else this.published.events += batches[i].rows;
      });
      return { accepted: rows.length - duplicates, duplicates };
    } catch (error) {
      this.published.failures++;
      this.noteError(error);
      throw new EventsUnavailableException('log_unavailable', 1);
    }
  }

  /** Stream and consumer figures, cached for a second; null when the log cannot be reached. */
  backlog(): Promise<EventLogBacklog | null> {
    const now = Date.now();
    if (this.backlogCache && now - this.backlogCache.at < BACKLOG_CACHE_MS) return this.backlogCache.value;
    const value = this.readBacklog().then(
      (backlog) => (this.lastBacklog = backlog),
      (error: unknown) => {
        this.noteError(error);
        return (this.lastBacklog = null);
      },
    );
    this.backlogCache = { at: now, value };
    return value;
  }

  /** The backlog as last read (no I/O; null when never read or unreachable), refreshing it in the background: for metrics scrapes. */
  backlogNow(): EventLogBacklog | null {
    if (this.config) void this.backlog();
    return this.lastBacklog;
  }

  async status(): Promise<EventLogStatus> {
    const config = this.requireConfig();
    const backlog = await this.backlog();
    const nc = this.nc;
    return {
      status: backlog !== null && nc !== null && !nc.isClosed() ? 'up' : 'down',
      servers: config.servers,
      connectedTo: nc && !nc.isClosed() ? (nc.getServer() ?? null) : null,
      stream: config.stream,
      replicas: config.replicas,
      backlog,
      lastError: this.lastError,
      published: { ...this.published },
    };
  }

  private async readBacklog(): Promise<EventLogBacklog> {
    const config = this.requireConfig();
    const { jsm } = await this.client();
    const stream = await jsm.streams.info(config.stream);
    const consumer = await jsm.consumers.info(config.stream, config.consumer).catch(() => null);
    const first = stream.state.messages > 0 ? Date.parse(stream.state.first_ts) : Number.NaN;
    return {
      messages: stream.state.messages,
      bytes: stream.state.bytes,
      pending: consumer?.num_pending ?? stream.state.messages,
      ackPending: consumer?.num_ack_pending ?? 0,
      redelivered: consumer?.num_redelivered ?? 0,
      oldestMs: Number.isFinite(first) ? Math.max(0, Date.now() - first) : 0,
    };
  }

  private requireConfig(): EventLogConfig {
    if (!this.config) throw new Error('the event log is not configured (STRATA_EVENT_LOG)');
    return this.config;
  }

  private noteError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastError) this.logger.warn(`event log: ${message}`);
    this.lastError = message;
  }

  /** The connection, made once (single flight) and then kept by the client's own reconnects. */
  private connection(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return Promise.resolve(this.nc);
    if (this.closed) return Promise.reject(new Error('the event log connection is closed'));
    if (this.connecting) return this.connecting;
    if (Date.now() - this.failedAt < RECONNECT_COOLDOWN_MS) return Promise.reject(new Error(this.lastError ?? 'event log unreachable'));
    const config = this.requireConfig();
    this.connecting = (async () => {
      let nc: NatsConnection | null = null;
      try {
        nc = await connect({
          servers: config.servers,
          name: 'strata',
          timeout: 2000,
          // Once connected, never give up: the client moves to another server of the cluster and retries the lost one.
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 5000,
          maxPingOut: 2,
        });
        const jsm = await jetstreamManager(nc, { timeout: PUBLISH_TIMEOUT_MS });
        await this.ensureStream(jsm, config);
        this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
        this.jsm = jsm;
        this.nc = nc;
        this.lastError = null;
        this.logger.log(`connected to ${nc.getServer()}; stream ${config.stream} (R${config.replicas})`);
        return nc;
      } catch (error) {
        this.failedAt = Date.now();
        this.noteError(error);
        if (nc) await nc.close().catch(() => undefined);
        throw error;
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  /** Creates the stream and the writers' durable consumer, or brings their settings up to date. */
  private async ensureStream(jsm: JetStreamManager, config: EventLogConfig): Promise<void> {
    const stream = {
      name: config.stream,
      subjects: [config.subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: config.replicas,
      discard: DiscardPolicy.New,
      max_bytes: config.maxBytes,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    };
    const existing = await jsm.streams.info(config.stream).catch(() => null);
    if (!existing) {
      await jsm.streams.add(stream).catch(async (error: unknown) => {
        // Another process created it at the same moment.
        if (!(await jsm.streams.info(config.stream).catch(() => null))) throw error;
      });
    } else if (existing.config.num_replicas !== config.replicas || existing.config.max_bytes !== config.maxBytes) {
      await jsm.streams.update(config.stream, { ...existing.config, num_replicas: config.replicas, max_bytes: config.maxBytes });
    }
    const consumer = {
      durable_name: config.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(config.ackWaitMs),
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      filter_subject: config.subject,
      max_deliver: -1,
      max_ack_pending: 20_000,
      max_waiting: 512,
    };
    const current = await jsm.consumers.info(config.stream, config.consumer).catch(() => null);
    if (!current) {
      await jsm.consumers.add(config.stream, consumer).catch(async (error: unknown) => {
        if (!(await jsm.consumers.info(config.stream, config.consumer).catch(() => null))) throw error;
      });
    } else if (current.config.ack_wait !== consumer.ack_wait) {
      await jsm.consumers.update(config.stream, config.consumer, { ack_wait: consumer.ack_wait });
    }
  }
}
