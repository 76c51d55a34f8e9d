import { resolve } from 'node:path';
import { z } from 'zod';
import { parseCorsOrigins } from '../common/http/sdk-cors';
import { adminKeyWeakness } from '../modules/api-key/admin-key-strength';

/**
 * Typed, validated configuration from the environment. Secrets come only from here.
 * Unknown variables are ignored; a bad value stops start-up with a message naming it.
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  STRATA_DATA_DIR: z.string().default('.data'),
  /** Port of the embedded PostgreSQL (127.0.0.1 only). Unset: 5433, or the next free one up to 5443. */
  STRATA_PG_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** At least 128 bits: 32+ hex digits or 22+ base64url characters, optionally after `sk_admin_` (admin-key-strength.ts). */
  STRATA_ADMIN_KEY: z.preprocess(
    // Set but empty (`STRATA_ADMIN_KEY=` in a compose file) means not set.
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .superRefine((key, ctx) => {
        const weakness = adminKeyWeakness(key);
        if (weakness !== null) ctx.addIssue({ code: 'custom', message: weakness });
      })
      .optional(),
  ),
  /** Failed authentications (bad API keys, wrong passwords) allowed per client address per window before 429; 0 disables. */
  STRATA_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(10),
  STRATA_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** How often the API keys' last use (the dashboard's "Last used") is written: one UPDATE per interval, at most one write per key. */
  STRATA_API_KEY_USAGE_FLUSH_MS: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
  /** A dashboard session ends after this long without a request… */
  STRATA_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60),
  /** …and at the latest this long after sign-in. */
  STRATA_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(12),
  /**
   * Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, or
   * loopback / linklocal / uniquelocal), so failed sign-ins are counted per real client, not per proxy. Empty: none.
   */
  STRATA_TRUST_PROXY: z
    .string()
    .default('')
    .refine((v) => !/^(true|\d+)$/i.test(v.trim()), 'list the proxies\' addresses (e.g. 10.0.0.0/8 or loopback); trusting every hop would let any client pick its address'),
  /** Mark the session cookie Secure: `auto` when the request came over https; set `true` behind a TLS-terminating proxy. */
  STRATA_COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted JSON body, bytes. */
  STRATA_BODY_LIMIT: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Slow clients (slowloris): every header must arrive within this. */
  STRATA_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** The whole request, body included, must arrive within this (then 408). */
  STRATA_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Idle keep-alive connections close after this. */
  STRATA_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Open connections at most; new ones beyond are closed at once. */
  STRATA_MAX_CONNECTIONS: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
  /** Request body bytes admitted at once (declared lengths); beyond, 503 + Retry-After before reading the body. */
  STRATA_MAX_INFLIGHT_BYTES: z.coerce.number().int().min(64 * 1024).max(4 * 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  /** Requests per second allowed per API key on POST /v1/events (token bucket); 0 disables. */
  STRATA_RATE_LIMIT_RPS: z.coerce.number().min(0).default(0),
  STRATA_RATE_LIMIT_BURST: z.coerce.number().min(1).default(2000),
  /** Web origins whose pages may call the SDK routes (config, assign, events): `*`, a comma-separated list, or empty for none. */
  STRATA_CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((value, ctx) => {
      const parsed = parseCorsOrigins(value);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.origins;
    }),
  /** Events waiting for the collector's writer before new requests get 503 (backpressure). */
  STRATA_EVENT_QUEUE_MAX: z.coerce.number().int().min(1000).default(200_000),
  /** Most events the collector writes in one transaction (group commit). */
  STRATA_EVENT_BATCH_MAX: z.coerce.number().int().min(100).default(20_000),
  /** Collector transactions in flight at once (each on its own connection): the next group is sent while one commits. */
  STRATA_EVENT_WRITERS: z.coerce.number().int().min(1).max(8).default(2),
  /** (experiment, unit) pairs whose first exposure the collector remembers, so repeats skip the database; 0 disables. */
  STRATA_FIRST_EXPOSURE_CACHE: z.coerce.number().int().min(0).max(50_000_000).default(500_000),
  /**
   * On SIGINT/SIGTERM, how long requests may still finish before their connections are closed. The default
   * keeps a whole shutdown (then event flush and PostgreSQL's stop) within the 10 s a `docker stop` waits.
   */
  STRATA_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0.1).max(600).default(5),
  /** How often the guardrail job checks running experiments. */
  STRATA_GUARDRAIL_INTERVAL_SECONDS: z.coerce.number().int().min(5).default(300),
  /** Webhook notified when an experiment is auto-stopped or alerted. */
  STRATA_WEBHOOK_URL: z.string().url().optional(),
  /** Seconds between two ticks of the analysis engine (one pass over the new events for every experiment). */
  STRATA_ANALYSIS_TICK_SECONDS: z.coerce.number().min(0.5).max(3600).optional(),
  /** Former name of STRATA_ANALYSIS_TICK_SECONDS, still read when the new one is not set. */
  STRATA_ROLLUP_INTERVAL_SECONDS: z.coerce.number().int().min(1).optional(),
  /** How often winsorization caps are recomputed (they stay frozen in between). */
  STRATA_ANALYSIS_CAPS_INTERVAL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
  /** Interaction checks across layers (docs/analysis.md): seconds between two refreshes of every pair's test. */
  STRATA_INTERACTION_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /** A pair of experiments in different layers is tested once it shares at least this many analysed units. */
  STRATA_INTERACTION_MIN_UNITS: z.coerce.number().int().min(10).max(100_000_000).default(1000),
  /** False discovery rate over all interaction tests. */
  STRATA_INTERACTION_FDR: z.coerce.number().gt(0).lt(0.5).default(0.05),
  /** `bh` (Benjamini–Hochberg, independence/PRDS) or `by` (Benjamini–Yekutieli, any dependence). */
  STRATA_INTERACTION_CORRECTION: z.enum(['bh', 'by']).default('bh'),
  /** Budget of joined (unit, pair) rows per refresh: above it units are sampled by a hash of their id. */
  STRATA_INTERACTION_MAX_ROWS: z.coerce.number().int().min(1000).max(2_000_000_000).default(20_000_000),
  /** The rollup watermark stays this far behind the clock: events stamped received_at but still queued for commit. */
  STRATA_ROLLUP_LAG_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Serve the dashboard from this folder (built by `vite build`). */
  STRATA_DASHBOARD_DIR: z.string().optional(),
  /**
   * Event log (NATS JetStream) between collectors and writers: comma-separated `nats://host:port`
   * servers. Unset: the collector writes straight into PostgreSQL (the embedded default).
   */
  STRATA_EVENT_LOG: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const servers = value.split(',').map((s) => s.trim());
      for (const s of servers) {
        if (!/^(nats:\/\/)?[A-Za-z0-9.-]+:\d{1,5}$/.test(s)) {
          ctx.addIssue({ code: 'custom', message: `"${s}" is not nats://host:port` });
          return z.NEVER;
        }
      }
      return servers.map((s) => (s.startsWith('nats://') ? s : `nats://${s}`));
    }),
  /** JetStream stream that holds the event batches (its subject is `<stream>.batches`). */
  STRATA_EVENT_LOG_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('STRATA_EVENTS'),
  /** Replicas of the stream: default 3 when three or more servers are listed, else 1. */
  STRATA_EVENT_LOG_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  /** Bytes the stream may hold before publishes are refused (503): a backlog bound, never a silent drop. */
  STRATA_EVENT_LOG_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(4 * 1024 * 1024 * 1024),
  /** A writer that holds a batch this long without acknowledging it (crashed, hung) loses it to another writer. */
  STRATA_EVENT_LOG_ACK_WAIT_SECONDS: z.coerce.number().int().min(2).max(3600).default(30),
  /** Batches one writer process holds at once (each up to 1,000 events; also at most 2 × STRATA_EVENT_BATCH_MAX × STRATA_EVENT_WRITERS rows), grouped into its transactions. */
  STRATA_EVENT_LOG_WRITER_INFLIGHT: z.coerce.number().int().min(1).max(2000).default(512),
  /** What this process does: `all` (default), `api` (assign + collect), `writer` (log → PostgreSQL), `jobs` (analysis, guardrails). `--role` overrides. */
  STRATA_ROLE: z.enum(['all', 'api', 'writer', 'jobs']).default('all'),
  /** Also serve GET /metrics without a key on this port (Prometheus scrapes); unset = only the admin-key route GET /v1/system/metrics on PORT. */
  STRATA_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  STRATA_METRICS_HOST: z.string().default('127.0.0.1'),
  /** Disable background jobs (tests drive them by hand). */
  STRATA_DISABLE_JOBS: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
});

export type AppConfig = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /** The embedded PostgreSQL's port and how many following ports may be tried when it is taken. */
  embeddedPg: { port: number; fallbacks: number };
  bootstrapAdminKey: string | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Reverse proxies trusted for X-Forwarded-For (Fastify's trustProxy), or null for none. */
  trustProxy: string | null;
  auth: {
    failureLimit: number;
    failureWindowMs: number;
    sessionIdleMs: number;
    sessionMaxMs: number;
    cookieSecure: 'auto' | boolean;
    /** Milliseconds between two writes of the keys' last use (ApiKeyUsage). */
    keyUsageFlushMs: number;
  };
  bodyLimit: number;
  /** Timeouts, connection cap and admission by bytes in flight of the HTTP server (common/http/server-limits.ts). */
  server: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number; maxInflightBytes: number };
  rateLimit: { rps: number; burst: number };
  /** Origins allowed on the SDK routes (`['*']` = any, `[]` = none). */
  corsOrigins: string[];
  events: { queueMax: number; batchMax: number; writers: number; firstExposureCache: number };
  shutdownGraceMs: number;
  guardrailIntervalSeconds: number;
  /** Seconds between analysis engine ticks (default 10). */
  analysisTickSeconds: number;
  /** Seconds between winsorization cap recomputations (default 3600). */
  capsIntervalSeconds: number;
  rollupLagMs: number;
  interactions: { intervalSeconds: number; minUnits: number; fdr: number; correction: 'bh' | 'by'; maxRows: number };
  webhookUrl: string | undefined;
  dashboardDir: string;
  jobsEnabled: boolean;
  role: Role;
  /** What the role runs: the HTTP API (assign, collect, configure), the log writer, the background jobs. */
  roles: { api: boolean; writer: boolean; jobs: boolean };
  eventLog: EventLogConfig | null;
  /** The keyless metrics listener (null port: off). */
  metrics: { port: number | null; host: string };
};

export const ROLES = ['all', 'api', 'writer', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

export interface EventLogConfig {
  servers: string[];
  stream: string;
  subject: string;
  /** Durable pull consumer shared by every writer. */
  consumer: string;
  replicas: number;
  maxBytes: number;
  ackWaitMs: number;
  writerInFlight: number;
}

export class ConfigError extends Error {}

/** `--role writer` or `--role=writer` on the command line (npm start -- --role writer); null when absent. */
function roleFromArgv(argv: readonly string[]): Role | null {
  const i = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (i < 0) return null;
  const value = argv[i].startsWith('--role=') ? argv[i].slice('--role='.length) : argv[i + 1];
  if (!(ROLES as readonly string[]).includes(value ?? '')) throw new ConfigError(`Invalid configuration:\n  --role: one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** The embedded PostgreSQL's default port: stable so tools can connect, beside a system server's 5432. */
export const DEFAULT_PG_PORT = 5433;

/** `argv`: only main.ts passes the command line (`--role`); tests and CLIs configure by environment alone. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    // One issue, one line (what a start-up log shows first); several, one per line.
    throw new ConfigError(lines.length === 1 ? `Invalid configuration: ${lines[0]}` : `Invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
  const e = parsed.data;
  const role = roleFromArgv(argv) ?? e.STRATA_ROLE;
  const servers = e.STRATA_EVENT_LOG;
  if (role === 'writer' && !servers) throw new ConfigError('Invalid configuration:\n  STRATA_ROLE: the writer role consumes the event log; set STRATA_EVENT_LOG');
  const eventLog: EventLogConfig | null = servers
    ? {
        servers,
        stream: e.STRATA_EVENT_LOG_STREAM,
        subject: `${e.STRATA_EVENT_LOG_STREAM}.batches`,
        consumer: 'strata-writer',
        replicas: e.STRATA_EVENT_LOG_REPLICAS ?? (servers.length >= 3 ? 3 : 1),
        maxBytes: e.STRATA_EVENT_LOG_MAX_BYTES,
        ackWaitMs: e.STRATA_EVENT_LOG_ACK_WAIT_SECONDS * 1000,
        writerInFlight: e.STRATA_EVENT_LOG_WRITER_INFLIGHT,
      }
    : null;
  const roles = { api: role === 'all' || role === 'api', writer: eventLog !== null && (role === 'all' || role === 'writer'), jobs: role === 'all' || role === 'jobs' };
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.STRATA_DATA_DIR),
    embeddedPg: e.STRATA_PG_PORT === undefined ? { port: DEFAULT_PG_PORT, fallbacks: 10 } : { port: e.STRATA_PG_PORT, fallbacks: 0 },
    bootstrapAdminKey: e.STRATA_ADMIN_KEY,
    logLevel: e.LOG_LEVEL,
    trustProxy: ['', 'false'].includes(e.STRATA_TRUST_PROXY.trim()) ? null : e.STRATA_TRUST_PROXY.trim(),
    auth: {
      failureLimit: e.STRATA_AUTH_FAILURE_LIMIT,
      failureWindowMs: e.STRATA_AUTH_FAILURE_WINDOW_SECONDS * 1000,
      sessionIdleMs: e.STRATA_SESSION_IDLE_MINUTES * 60_000,
      sessionMaxMs: e.STRATA_SESSION_MAX_HOURS * 3_600_000,
      cookieSecure: e.STRATA_COOKIE_SECURE === 'auto' ? 'auto' : e.STRATA_COOKIE_SECURE === 'true',
      keyUsageFlushMs: e.STRATA_API_KEY_USAGE_FLUSH_MS,
    },
    bodyLimit: e.STRATA_BODY_LIMIT,
    server: {
      // Node refuses a headers timeout above the request timeout.
      headersTimeoutMs: Math.min(e.STRATA_HEADERS_TIMEOUT_MS, e.STRATA_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: e.STRATA_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.STRATA_KEEPALIVE_TIMEOUT_MS,
      maxConnections: e.STRATA_MAX_CONNECTIONS,
      maxInflightBytes: e.STRATA_MAX_INFLIGHT_BYTES,
    },
    rateLimit: { rps: e.STRATA_RATE_LIMIT_RPS, burst: e.STRATA_RATE_LIMIT_BURST },
    corsOrigins: e.STRATA_CORS_ORIGINS,
    events: {
      queueMax: e.STRATA_EVENT_QUEUE_MAX,
      batchMax: e.STRATA_EVENT_BATCH_MAX,
      writers: e.STRATA_EVENT_WRITERS,
      firstExposureCache: e.STRATA_FIRST_EXPOSURE_CACHE,
    },
    shutdownGraceMs: e.STRATA_SHUTDOWN_GRACE_SECONDS * 1000,
    guardrailIntervalSeconds: e.STRATA_GUARDRAIL_INTERVAL_SECONDS,
    analysisTickSeconds: e.STRATA_ANALYSIS_TICK_SECONDS ?? e.STRATA_ROLLUP_INTERVAL_SECONDS ?? 10,
    capsIntervalSeconds: e.STRATA_ANALYSIS_CAPS_INTERVAL_SECONDS,
    rollupLagMs: e.STRATA_ROLLUP_LAG_MS,
    interactions: {
      intervalSeconds: e.STRATA_INTERACTION_INTERVAL_SECONDS,
      minUnits: e.STRATA_INTERACTION_MIN_UNITS,
      fdr: e.STRATA_INTERACTION_FDR,
      correction: e.STRATA_INTERACTION_CORRECTION,
      maxRows: e.STRATA_INTERACTION_MAX_ROWS,
    },
    webhookUrl: e.STRATA_WEBHOOK_URL,
    dashboardDir: resolve(e.STRATA_DASHBOARD_DIR ?? resolve(__dirname, '../../../dashboard/dist')),
    jobsEnabled: roles.jobs && !e.STRATA_DISABLE_JOBS,
    role,
    roles,
    eventLog,
    metrics: { port: e.STRATA_METRICS_PORT ?? null, host: e.STRATA_METRICS_HOST },
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
