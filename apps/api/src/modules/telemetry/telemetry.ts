import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets (seconds) for API requests: the assign route answers in well under a millisecond. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Rows per collector transaction (group commit): from single events to the 20,000-row cap. */
const BATCH_BUCKETS = [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 20_000];
const TICK_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The process's Prometheus metrics (prom-client), on a registry of its own (not the library's
 * global one) so that several apps in one process — tests — never clash. Hot paths only call
 * `observe…` (a histogram update: an array index and two additions); everything that already has
 * an owner elsewhere (event counters, queue depth, config version) is read at scrape time by the
 * collectors that `TelemetryCollectors` registers, never copied.
 */
export class Telemetry {
  readonly registry = new Registry();

  private readonly requests = this.histogram(
    'strata_http_request_duration_seconds',
    'API request latency by method, route template and status class, from its arrival at the socket (waiting behind a busy event loop included) to the reply written.',
    REQUEST_BUCKETS,
    ['method', 'route', 'status'],
  );
  private readonly writerRows = this.histogram('strata_writer_batch_rows', 'Rows per collector transaction (group commit).', BATCH_BUCKETS);
  private readonly writerSeconds = this.histogram('strata_writer_batch_duration_seconds', 'Duration of one collector transaction, from BEGIN to COMMIT.', REQUEST_BUCKETS);
  private readonly writerLag = this.histogram(
    'strata_writer_commit_lag_seconds',
    'Time an event batch waited in the collector queue before its transaction committed (queueing + write).',
    REQUEST_BUCKETS,
  );
  private readonly ticks = this.histogram('strata_analysis_tick_duration_seconds', 'Duration of one analysis tick (new events applied to every affected experiment).', TICK_BUCKETS);
  private readonly tickUnits = new Counter({ name: 'strata_analysis_tick_units_total', help: 'Units whose contribution analysis ticks replaced (work done by new events).', registers: [this.registry] });

  private lastWatermark: number | null = null;

  private readonly guardrailActions = new Counter({
    name: 'strata_guardrail_actions_total',
    help: 'Guardrail actions taken by this process: auto-stops and alerts.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    new Gauge({
      name: 'strata_analysis_watermark_age_seconds',
      help: 'Age of the analysis watermark (events received before it are in the results); absent before the first tick.',
      registers: [this.registry],
      collect: (): void => {
        const g = this.registry.getSingleMetric('strata_analysis_watermark_age_seconds') as Gauge | undefined;
        if (!g) return;
        g.reset();
        if (this.lastWatermark !== null) g.set(Math.max(0, (Date.now() - this.lastWatermark) / 1000));
      },
    });
    // CPU, memory, event-loop lag and GC of this process (prefixed, so they sit beside ours).
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'strata_' });
  }

  /** One request answered. `route` must be a template (`/v1/experiments/:key`), never a raw URL: label cardinality stays bounded. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: `${Math.floor(status / 100)}xx` }, seconds);
  }

  /** One collector transaction committed `rows` rows in `seconds`; the oldest batch in it had waited `lagSeconds`. */
  observeWriterGroup(rows: number, seconds: number, lagSeconds: number): void {
    this.writerRows.observe(rows);
    this.writerSeconds.observe(seconds);
    this.writerLag.observe(lagSeconds);
  }

  /** One analysis tick: how long it took, how many units' contributions it replaced, and the data time it reached. */
  observeAnalysisTick(seconds: number, units: number, watermark: Date | null): void {
    this.ticks.observe(seconds);
    if (units > 0) this.tickUnits.inc(units);
    if (watermark !== null) this.lastWatermark = watermark.getTime();
  }

  observeGuardrailAction(action: string): void {
    this.guardrailActions.inc({ action });
  }

  /**
   * A gauge or counter whose value is read from its owner at scrape time. `read` returns one
   * value, null (series absent), or values by the one label `labelName` (e.g. rejections by reason).
   */
  pull(kind: 'gauge' | 'counter', name: string, help: string, read: () => number | null | Record<string, number>, labelName?: string): void {
    const fill = (metric: Gauge<string> | Counter<string>): void => {
      metric.reset();
      const value = read();
      if (value === null) return;
      if (typeof value === 'number') return setValue(metric, value, {});
      if (!labelName) throw new Error(`${name}: labelled values need a label name`);
      for (const [label, v] of Object.entries(value)) setValue(metric, v, { [labelName]: label });
    };
    const labelNames = labelName ? [labelName] : [];
    if (kind === 'gauge') {
      const g: Gauge<string> = new Gauge({ name, help, labelNames, registers: [this.registry], collect: () => fill(g) });
    } else {
      const c: Counter<string> = new Counter({ name, help, labelNames, registers: [this.registry], collect: () => fill(c) });
    }
  }

  private histogram(name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram<string> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  /** The text exposition (Prometheus format 0.0.4). */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A pulled counter is reset and re-filled with its owner's running total at each scrape. */
function setValue(metric: Gauge<string> | Counter<string>, value: number, labels: Record<string, string>): void {
  if (metric instanceof Gauge) metric.set(labels, value);
  else metric.inc(labels, Math.max(0, value));
}
