import { resolve } from 'node:path';
import { z } from 'zod';
import { parseCorsOrigins } from '../common/http/sdk-cors';

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
  STRATA_ADMIN_KEY: z.string().min(16, 'STRATA_ADMIN_KEY must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted JSON body, bytes. */
  STRATA_BODY_LIMIT: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
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
  /** The rollup watermark stays this far behind the clock: events stamped received_at but still queued for commit. */
  STRATA_ROLLUP_LAG_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Serve the dashboard from this folder (built by `vite build`). */
  STRATA_DASHBOARD_DIR: z.string().optional(),
  /** Also serve GET /metrics without a key on this port (Prometheus scrapes); unset = only the admin-key route on PORT. */
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
  bodyLimit: number;
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
  webhookUrl: string | undefined;
  dashboardDir: string;
  jobsEnabled: boolean;
  /** The keyless metrics listener (null port: off). */
  metrics: { port: number | null; host: string };
};

export class ConfigError extends Error {}

/** The embedded PostgreSQL's default port: stable so tools can connect, beside a system server's 5432. */
export const DEFAULT_PG_PORT = 5433;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.STRATA_DATA_DIR),
    embeddedPg: e.STRATA_PG_PORT === undefined ? { port: DEFAULT_PG_PORT, fallbacks: 10 } : { port: e.STRATA_PG_PORT, fallbacks: 0 },
    bootstrapAdminKey: e.STRATA_ADMIN_KEY,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.STRATA_BODY_LIMIT,
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
    webhookUrl: e.STRATA_WEBHOOK_URL,
    dashboardDir: resolve(e.STRATA_DASHBOARD_DIR ?? resolve(__dirname, '../../../dashboard/dist')),
    jobsEnabled: !e.STRATA_DISABLE_JOBS,
    metrics: { port: e.STRATA_METRICS_PORT ?? null, host: e.STRATA_METRICS_HOST },
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
