import type { AnalysisDefinition } from '../result/analysis-definition';

/** Stopped experiments keep receiving late events for up to 7 days; keep analysing them a day longer. */
export const LATE_EVENT_DAYS = 8;

/** Metric definitions of a set of experiments as the tick SQL's arrays. */
export function metricArrays(defs: AnalysisDefinition[]): Record<string, unknown> {
  const m = { m_exp: [] as string[], m_metric: [] as string[], m_event: [] as string[], m_role: [] as string[], m_window: [] as (number | null)[], m_lookback: [] as number[], m_stop: [] as (Date | null)[] };
  const k = { k_exp: [] as string[], k_metric: [] as string[], k_type: [] as string[] };
  const e = { e_exp: [] as string[], e_dims: [] as string[] };
  const names = new Set<string>();
  for (const d of defs) {
    e.e_exp.push(d.key);
    e.e_dims.push(d.segmentDimensions.join(','));
    for (const x of d.metrics) {
      k.k_exp.push(d.key); k.k_metric.push(x.key); k.k_type.push(x.type);
      const roles: [string, string, number][] = [[x.eventName, 'num', x.cupedLookbackDays]];
      if (x.type === 'ratio' && x.denominatorEventName) roles.push([x.denominatorEventName, 'den', 0]);
      for (const [event, role, lookback] of roles) {
        m.m_exp.push(d.key); m.m_metric.push(x.key); m.m_event.push(event); m.m_role.push(role);
        m.m_window.push(x.attributionWindowHours); m.m_lookback.push(lookback); m.m_stop.push(d.stoppedAt);
        names.add(event);
      }
    }
  }
  return { ...m, ...k, ...e, names: [...names] };
}

/** Whether the engine still applies events to an experiment (running, or stopped within the late-event window). */
export function isAnalysed(def: Pick<AnalysisDefinition, 'status' | 'stoppedAt'>, now = Date.now()): boolean {
  if (def.status === 'draft') return false;
  if (def.status === 'running') return true;
  return def.stoppedAt !== null && def.stoppedAt.getTime() > now - LATE_EVENT_DAYS * 86_400_000;
}

