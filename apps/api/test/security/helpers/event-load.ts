import { randomUUID } from 'node:crypto';

/** What one event request came back with: an HTTP status, or -1 when the connection failed (refused, reset). */
export type Outcome = number;

export interface LoadOptions {
  /** Concurrent clients, each sending its next batch once the previous one was answered. */
  clients: number;
  /** Events per batch (100 ≈ 15 KB of JSON, 1,000 ≈ 150 KB). */
  batch: number;
  /** Pause after an answer other than 202 (a client backing off); 0: none. */
  pauseMs?: number;
}

export interface RunningLoad {
  /** Stops the clients and waits until their last requests are answered or aborted. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An event load generator for the fault and overload specs: clients POST batches of fresh event ids
 * to /v1/events and record, per phase, what each request got. `acked` holds the ids of every batch
 * answered 202, `sent` every id ever sent: afterwards a spec checks that each acked id is stored
 * exactly once and nothing it never sent is. Several runs may share one tally (a steady load plus an
 * overload burst).
 */
export class EventLoad {
  readonly acked = new Set<string>();
  readonly sent = new Set<string>();
  /** phase → outcome → requests. */
  readonly outcomes = new Map<string, Map<Outcome, number>>();
  /** Retry-After of every 503 ('none' when missing). */
  readonly retryAfter = new Set<string>();
  /** Connection error codes behind the -1 outcomes. */
  readonly errors = new Set<string>();
  /** 202 answers whose `accepted` was not the batch size (must stay 0). */
  miscounted = 0;
  /** The label the next answers are recorded under. */
  phase = 'load';
  private clientSeq = 0;

  constructor(
    private readonly base: () => string,
    private readonly key: string,
    private readonly eventName: string,
  ) {}

  run(options: LoadOptions): RunningLoad {
    let stopped = false;
    const clients = Array.from({ length: options.clients }, () => this.client(this.clientSeq++, options, () => stopped));
    return {
      stop: async () => {
        stopped = true;
        await Promise.all(clients);
      },
    };
  }

  /** Resolves once `more` further events were acknowledged; fails after `withinMs` without them. */
  async waitAcked(more: number, label: string, withinMs = 30_000): Promise<void> {
    const target = this.acked.size + more;
    const deadline = Date.now() + withinMs;
    while (this.acked.size < target) {
      if (Date.now() > deadline) throw new Error(`${label}: not ${more} events acknowledged within ${withinMs} ms (${this.summary()})`);
      await sleep(50);
    }
  }

  /** Every outcome seen in any phase. */
  allOutcomes(): Set<Outcome> {
    return new Set([...this.outcomes.values()].flatMap((m) => [...m.keys()]));
  }

  count(phase: string, outcome: Outcome): number {
    return this.outcomes.get(phase)?.get(outcome) ?? 0;
  }

  summary(): string {
    return [...this.outcomes].map(([phase, m]) => `${phase} ${JSON.stringify(Object.fromEntries(m))}`).join('; ');
  }

  private record(outcome: Outcome): void {
    let m = this.outcomes.get(this.phase);
    if (m === undefined) this.outcomes.set(this.phase, (m = new Map()));
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  private async client(c: number, options: LoadOptions, stopped: () => boolean): Promise<void> {
    let n = 0;
      while (!stopped()) {
        const events = Array.from({ length: options.batch }, () => ({ id: randomUUID(), type: 'metric', unitId: `c${c}-${n++}`, name: this.eventName, value: 1 }));
        for (const e of events) this.sent.add(e.id);
        let outcome: Outcome = -1;
        try {
          const res = await fetch(`${this.base()}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
            signal: AbortSignal.timeout(15_000),
          });
          outcome = res.status;
          if (outcome === 503) this.retryAfter.add(res.headers.get('retry-after') ?? 'none');
          const text = await res.text();
          if (outcome === 202) {
            const accepted = (JSON.parse(text) as { accepted?: number }).accepted;
            if (accepted !== events.length) this.miscounted++;
            for (const e of events) this.acked.add(e.id);
          }
        } catch (error) {
          // Refused or reset (the API is down, or it closed a refused request's connection mid-body).
          outcome = -1;
          const cause = (error as { cause?: { code?: string } }).cause;
          this.errors.add(cause?.code ?? (error as Error).name);
        }
        this.record(outcome);
        if (outcome !== 202 && (options.pauseMs ?? 0) > 0) await sleep(options.pauseMs ?? 0);
    }
  }
}
