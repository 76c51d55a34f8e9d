import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ExperimentDto, ShipExperimentRequest } from '@strata/contracts';
import { useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { errorMessage } from '../api/client';
import { useLayer } from '../hooks/queries';
import { useApi } from '../hooks/session';
import { bucketsFor, describeConclude, describeRamp, describeStart, describeStop, formatCount } from '../lib/traffic';
import { ConfirmDialog } from './Dialog';
import { ShipDialog } from './ShipDialog';

type Action = 'start' | 'ramp' | 'stop' | 'ship' | 'conclude' | 'delete';

/** Start / ramp / stop / ship / conclude / delete, each behind a dialog that says what will happen. */
export function LifecycleActions({ experiment: e }: { experiment: ExperimentDto }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const layer = useLayer(e.layer);
  const [open, setOpen] = useState<Action | null>(null);
  const [traffic, setTraffic] = useState(String(Math.min(100, e.traffic * 2 || 10)));
  const [reason, setReason] = useState('');
  // The ship dialog's body, set just before the mutation runs (to everyone, or in stages).
  const shipBody = useRef<ShipExperimentRequest | null>(null);

  const run = useMutation({
    mutationFn: async (action: Action): Promise<ExperimentDto | null> => {
      switch (action) {
        case 'start':
          return api.experiments.start(e.key);
        case 'ramp':
          return api.experiments.ramp(e.key, Number(traffic));
        case 'stop':
          return api.experiments.stop(e.key, reason.trim() || undefined);
        case 'ship':
          if (!shipBody.current) throw new Error('Choose what to ship.');
          return api.experiments.ship(e.key, shipBody.current);
        case 'conclude':
          return api.experiments.conclude(e.key);
        case 'delete':
          await api.experiments.remove(e.key);
          return null;
      }
    },
    onSuccess: (updated) => {
      setOpen(null);
      void queryClient.invalidateQueries({ queryKey: ['experiments'] });
      void queryClient.invalidateQueries({ queryKey: ['layer', e.layer] });
      void queryClient.invalidateQueries({ queryKey: ['layers'] });
      void queryClient.invalidateQueries({ queryKey: ['audit'] });
      if (updated) queryClient.setQueryData(['experiment', e.key], updated);
      else void navigate('/experiments');
    },
  });

  const openDialog = (a: Action) => {
    run.reset();
    setOpen(a);
  };
  const close = () => setOpen(null);
  const held = e.ranges.reduce((s, r) => s + r.end - r.start, 0);
  const error = run.error ? errorMessage(run.error) : null;

  return (
    <div className="actions">
      {e.status === 'draft' && (
        <button type="button" className="btn btn-primary" onClick={() => openDialog('start')}>
          Start
        </button>
      )}
      {(e.status === 'running' || e.status === 'draft') && (
        <button type="button" className="btn" onClick={() => openDialog('ramp')}>
          Ramp traffic
        </button>
      )}
      {e.status === 'running' && (
        <>
          <button type="button" className="btn" onClick={() => openDialog('ship')}>
            Ship a variant
          </button>
          <button type="button" className="btn btn-danger" onClick={() => openDialog('stop')}>
            Stop
          </button>
        </>
      )}
      {(e.status === 'shipped' || e.status === 'stopped') && (
        <button type="button" className="btn" onClick={() => openDialog('conclude')}>
          Conclude
        </button>
      )}
      {e.status === 'draft' && (
        <button type="button" className="btn btn-ghost" onClick={() => openDialog('delete')}>
          Delete
        </button>
      )}

      {open === 'start' && (
        <ConfirmDialog
          title={`Start “${e.name}”?`}
          description={describeStart(e.traffic, e.layer, layer.data?.freeBuckets)}
          confirmLabel="Start experiment"
          busy={run.isPending}
          error={error}
          onConfirm={() => run.mutate('start')}
          onCancel={close}
        />
      )}
      {open === 'ramp' && (
        <ConfirmDialog
          title="Ramp traffic"
          description={
            e.status === 'running'
              ? describeRamp(e.traffic, Number(traffic) || 0)
              : `The experiment has not started: this only changes how many buckets (${formatCount(bucketsFor(Number(traffic) || 0))}) it will reserve when it starts.`
          }
          confirmLabel={`Set traffic to ${Number(traffic) || 0}%`}
          busy={run.isPending}
          error={error}
          onConfirm={() => run.mutate('ramp')}
          onCancel={close}
        >
          <div className="field">
            <label htmlFor="ramp-traffic">New traffic (% of the layer)</label>
            <input
              id="ramp-traffic"
              type="number"
              min="0"
              max="100"
              step="0.01"
              value={traffic}
              onChange={(ev) => setTraffic(ev.target.value)}
            />
            <p className="hint">
              Currently {e.traffic}% ({formatCount(held || bucketsFor(e.traffic))} buckets).
            </p>
          </div>
        </ConfirmDialog>
      )}
      {open === 'stop' && (
        <ConfirmDialog
          title={`Stop “${e.name}”?`}
          description={describeStop(held)}
          confirmLabel="Stop experiment"
          danger
          busy={run.isPending}
          error={error}
          onConfirm={() => run.mutate('stop')}
          onCancel={close}
        >
          <div className="field">
            <label htmlFor="stop-reason">Reason (kept in the audit log)</label>
            <textarea id="stop-reason" value={reason} onChange={(ev) => setReason(ev.target.value)} />
          </div>
        </ConfirmDialog>
      )}
      {open === 'ship' && (
        <ShipDialog
          experiment={e}
          busy={run.isPending}
          error={error}
          onShip={(body) => {
            shipBody.current = body;
            run.mutate('ship');
          }}
          onCancel={close}
        />
      )}
      {open === 'conclude' && (
        <ConfirmDialog
          title={`Conclude “${e.name}”?`}
          description={describeConclude(e.key, e.shippedVariant)}
          confirmLabel="Conclude experiment"
          busy={run.isPending}
          error={error}
          onConfirm={() => run.mutate('conclude')}
          onCancel={close}
        />
      )}
      {open === 'delete' && (
        <ConfirmDialog
          title={`Delete “${e.name}”?`}
          description="The draft and its settings are deleted. It never ran, so no results are lost."
          confirmLabel="Delete draft"
          danger
          busy={run.isPending}
          error={error}
          onConfirm={() => run.mutate('delete')}
          onCancel={close}
        />
      )}
    </div>
  );
}
