import { sampleSizeFixed, sampleSizeSequential, type SampleSizeOptions } from '@strata/stats';
import type { MetricBaselineDto } from '@strata/contracts';
import { useEffect, useMemo, useState } from 'react';
import { formatInt } from '../lib/format';

interface Props {
  /** Called with the sequential units PER ARM (what plannedSampleSize means everywhere). */
  onUse?: (plannedSampleSize: number) => void;
  /** Arms of the experiment, only to show the total traffic the plan needs. */
  arms?: number;
  /**
   * The chosen metric's observed baseline (GET /v1/metrics/:key/baseline). Each new one pre-fills
   * the baseline fields (empty when it has no data); the user may overwrite them.
   */
  baseline?: MetricBaselineDto;
}

/** A pre-filled value: 4 significant digits, enough for a sample size and easy to read. */
function prefill(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/**
 * Planned sample size from `@strata/stats` (the same functions the API uses), computed in the
 * browser as the inputs change.
 */
export function PowerCalculator({ onUse, arms = 2, baseline }: Props) {
  const [kind, setKind] = useState<'rate' | 'mean'>('rate');
  const [rate, setRate] = useState('0.1');
  const [mean, setMean] = useState('50');
  const [sd, setSd] = useState('20');
  const [mde, setMde] = useState('5');
  const [alpha, setAlpha] = useState('0.05');
  const [power, setPower] = useState('0.8');

  // Pre-fill once per answer (not on every render), so what the user types afterwards stays.
  useEffect(() => {
    if (!baseline) return;
    const o = baseline.observed;
    setKind(o ? o.kind : baseline.type === 'conversion' ? 'rate' : 'mean');
    if (o?.kind === 'rate') {
      setRate(prefill(o.rate));
    } else if (o?.kind === 'mean') {
      setMean(prefill(o.mean));
      setSd(prefill(o.sd));
    } else {
      setRate('');
      setMean('');
      setSd('');
    }
  }, [baseline]);

  const options: SampleSizeOptions = useMemo(
    () => ({
      mde: Number(mde) / 100,
      alpha: Number(alpha),
      power: Number(power),
      ...(kind === 'rate' ? { baselineRate: Number(rate) } : { baselineMean: Number(mean), baselineSd: Number(sd) }),
    }),
    [kind, rate, mean, sd, mde, alpha, power],
  );
  const fixed = sampleSizeFixed(options);
  const sequential = sampleSizeSequential(options);

  return (
    <div className="power">
      <div className="field-row">
        <div className="field">
          <label htmlFor="power-kind">Metric kind</label>
          <select id="power-kind" value={kind} onChange={(e) => setKind(e.target.value as 'rate' | 'mean')}>
            <option value="rate">conversion rate</option>
            <option value="mean">mean (with standard deviation)</option>
          </select>
        </div>
        {kind === 'rate' ? (
          <div className="field">
            <label htmlFor="power-rate">Baseline rate (0–1)</label>
            <input id="power-rate" type="number" step="0.01" min="0" max="1" value={rate} onChange={(e) => setRate(e.target.value)} />
          </div>
        ) : (
          <>
            <div className="field">
              <label htmlFor="power-mean">Baseline mean</label>
              <input id="power-mean" type="number" value={mean} onChange={(e) => setMean(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="power-sd">Standard deviation</label>
              <input id="power-sd" type="number" min="0" value={sd} onChange={(e) => setSd(e.target.value)} />
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor="power-mde">Minimum detectable effect (relative %)</label>
          <input id="power-mde" type="number" step="0.5" value={mde} onChange={(e) => setMde(e.target.value)} />
        </div>
        <div className="field field-narrow">
          <label htmlFor="power-alpha">Alpha</label>
          <input id="power-alpha" type="number" step="0.01" min="0" max="1" value={alpha} onChange={(e) => setAlpha(e.target.value)} />
        </div>
        <div className="field field-narrow">
          <label htmlFor="power-power">Power</label>
          <input id="power-power" type="number" step="0.05" min="0" max="1" value={power} onChange={(e) => setPower(e.target.value)} />
        </div>
      </div>
      {baseline && <BaselineSource baseline={baseline} />}
      <dl className="power-results" aria-live="polite">
        <div>
          <dt>Fixed horizon (look once, at the end)</dt>
          <dd data-testid="power-fixed">{fixed.defined ? `${formatInt(fixed.perArm)} units per arm` : fixed.reason}</dd>
        </div>
        <div>
          <dt>Sequential (peek any time, always valid)</dt>
          <dd data-testid="power-sequential">{sequential.defined ? `${formatInt(sequential.perArm)} units per arm` : sequential.reason}</dd>
        </div>
      </dl>
      {onUse && sequential.defined && (
        <button type="button" className="btn" onClick={() => onUse(sequential.perArm)}>
          Use {formatInt(sequential.perArm)} per arm as planned sample size (sequential; {formatInt(sequential.perArm * arms)} units over{' '}
          {arms} arms)
        </button>
      )}
    </div>
  );
}

function BaselineSource({ baseline }: { baseline: MetricBaselineDto }) {
  const { observed, source } = baseline;
  if (!observed || !source) {
    return (
      <p className="hint" data-testid="power-baseline-source">
        No observed baseline for “{baseline.metric}” yet ({baseline.reason}). Enter your own estimate.
      </p>
    );
  }
  const values = observed.kind === 'rate' ? `rate ${prefill(observed.rate)}` : `mean ${prefill(observed.mean)}, SD ${prefill(observed.sd)}`;
  return (
    <p className="hint" data-testid="power-baseline-source">
      Pre-filled from {formatInt(observed.n)} units in experiment {source.experiments.join(', ')} ({source.variant}, {values}); edit to
      override.
    </p>
  );
}
