/** The tuning fields the create and edit metric forms share, as typed (strings). */
export interface MetricTuningFields {
  harmThreshold: string;
  winsorizePercentile: string;
  attributionWindowHours: string;
  cupedLookbackDays: string;
}

export const optionalNumber = (s: string): number | null => (s.trim() === '' ? null : Number(s));

/** The tuning fields as the API wants them. */
export function metricTuning(f: MetricTuningFields) {
  const harm = optionalNumber(f.harmThreshold);
  return {
    winsorizePercentile: optionalNumber(f.winsorizePercentile),
    // People type a percent; the API stores a fraction (toPrecision drops float artefacts like 0.07000000000000001).
    harmThreshold: harm === null ? null : +(harm / 100).toPrecision(12),
    attributionWindowHours: optionalNumber(f.attributionWindowHours),
    cupedLookbackDays: f.cupedLookbackDays.trim() === '' ? 14 : Number(f.cupedLookbackDays),
  };
}
