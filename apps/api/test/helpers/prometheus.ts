import { spawnSync } from 'node:child_process';

/**
 * Parses a Prometheus exposition with the official Python client's parser
 * (`prometheus_client.parser`, Debian's python3-prometheus-client), which rejects malformed
 * input: an independent check that our output is valid text format, not just that prom-client
 * agrees with itself. The one npm parser (parse-prometheus-text-format) loses histogram labels
 * when `le` comes first, as prom-client writes it, so it can't serve here.
 */
const PYTHON = process.env.STRATA_PROM_PYTHON ?? '/usr/bin/python3';
const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]})
print(json.dumps(out))
`;

export interface PromFamily {
  name: string;
  type: string;
  /** Non-finite values (NaN, ±Inf) come as strings: a test can spot them. */
  samples: { name: string; labels: Record<string, string>; value: number | string }[];
}

/** Why the parser can't run here (with the install command), or null when it can. */
export function promParserMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import prometheus_client.parser'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} with prometheus_client is needed to check /metrics: apt-get install -y python3-prometheus-client (${(r.stderr || String(r.error)).trim().split('\n').pop()})`;
}

/** Families by name (the Python client names counters without their `_total` suffix). */
export function parseProm(text: string): Map<string, PromFamily> {
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: text, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`the Prometheus parser rejected the exposition: ${r.stderr}`);
  const families = JSON.parse(r.stdout) as PromFamily[];
  return new Map(families.map((f) => [f.name, f]));
}

/** Sum of the samples named `sample` (e.g. `x_total`, `x_count`) whose labels include `labels`; 0 when absent. */
export function sample(families: Map<string, PromFamily>, sampleName: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== sampleName) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += Number(s.value);
    }
  }
  return total;
}
