import { formatValueInput, parseValueInput, type CreateExperimentRequest, type ExperimentDto, type UpdateExperimentRequest, type ValueType, type VariantValue } from '@strata/contracts';
import { newVariant, type DraftValues, type DraftVariant } from '../components/VariantsEditor';
import { draftToTargeting, targetingToDraft, type DraftGroup } from './targeting';

export interface DraftForced {
  id: string;
  unitId: string;
  variant: string;
  /** `datetime-local` text; empty = never expires. */
  expiresAt: string;
}

/** Everything the create/edit form holds, as typed text where people type. */
export interface ExperimentDraft {
  key: string;
  name: string;
  hypothesis: string;
  layer: string;
  variants: DraftVariant[];
  traffic: string;
  targeting: DraftGroup;
  forced: DraftForced[];
  primaryMetric: string;
  secondaryMetrics: string[];
  guardrailMetrics: string[];
  plannedSampleSize: string;
  autoStop: boolean;
  values: DraftValues;
}

let seq = 0;
export const newForced = (variant = ''): DraftForced => ({ id: `f${++seq}`, unitId: '', variant, expiresAt: '' });

export function emptyDraft(): ExperimentDraft {
  return {
    key: '',
    name: '',
    hypothesis: '',
    layer: '',
    variants: [newVariant('control', '0.5'), newVariant('treatment', '0.5')],
    traffic: '100',
    targeting: targetingToDraft(null),
    forced: [],
    primaryMetric: '',
    secondaryMetrics: [],
    guardrailMetrics: [],
    plannedSampleSize: '',
    autoStop: true,
    values: { valueType: '', defaultValue: '' },
  };
}

export function draftFromExperiment(e: ExperimentDto): ExperimentDraft {
  return {
    key: e.key,
    name: e.name,
    hypothesis: e.hypothesis,
    layer: e.layer,
    variants: e.variants.map((v) => ({
      ...newVariant(v.key, String(v.weight), e.valueType === null ? '' : formatValueInput(e.valueType, v.value)),
      name: v.name === v.key ? '' : v.name,
    })),
    traffic: String(e.traffic),
    targeting: targetingToDraft(e.targeting),
    forced: e.forcedVariants.map((f) => ({
      ...newForced(f.variant),
      unitId: f.unitId,
      expiresAt: f.expiresAt ? toLocalInput(f.expiresAt) : '',
    })),
    primaryMetric: e.primaryMetric ?? '',
    secondaryMetrics: e.secondaryMetrics,
    guardrailMetrics: e.guardrailMetrics,
    plannedSampleSize: e.plannedSampleSize === null ? '' : String(e.plannedSampleSize),
    autoStop: e.autoStop,
    values: { valueType: e.valueType ?? '', defaultValue: e.valueType === null || e.defaultValue === null ? '' : formatValueInput(e.valueType, e.defaultValue) },
  };
}

/** A typed value as the API takes it; what does not parse goes as typed text so the API names the field. */
function value(type: ValueType, text: string): VariantValue {
  const parsed = parseValueInput(type, text);
  return 'value' in parsed ? parsed.value : text;
}

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Numbers typed as text: empty stays empty (null), anything else goes to the API as typed so it can say what is wrong. */
function num(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

function shared(d: ExperimentDraft) {
  const planned = d.plannedSampleSize.trim();
  const type = d.values.valueType === '' ? null : d.values.valueType;
  return {
    name: d.name,
    hypothesis: d.hypothesis,
    layer: d.layer,
    variants: d.variants.map((v) => ({
      key: v.key.trim(),
      ...(v.name.trim() ? { name: v.name.trim() } : {}),
      weight: num(v.weight),
      ...(type !== null ? { value: value(type, v.value) } : {}),
    })),
    valueType: type,
    defaultValue: type === null ? null : value(type, d.values.defaultValue),
    targeting: draftToTargeting(d.targeting),
    forcedVariants: d.forced.map((f) => ({
      unitId: f.unitId.trim(),
      variant: f.variant,
      expiresAt: f.expiresAt ? new Date(f.expiresAt).toISOString() : null,
    })),
    primaryMetric: d.primaryMetric || null,
    secondaryMetrics: d.secondaryMetrics,
    guardrailMetrics: d.guardrailMetrics,
    plannedSampleSize: planned === '' ? null : num(planned),
    autoStop: d.autoStop,
  };
}

export function buildCreateRequest(d: ExperimentDraft): CreateExperimentRequest {
  const body: CreateExperimentRequest = { key: d.key.trim(), ...shared(d), traffic: num(d.traffic) };
  if (body.valueType === null) {
    delete body.valueType;
    delete body.defaultValue;
  }
  return body;
}

/**
 * PATCH body: started experiments keep variants and layer (the API refuses changes to them),
 * and traffic of a running experiment moves through ramp, which explains what happens to units.
 */
export function buildUpdateRequest(d: ExperimentDraft, original: ExperimentDto): UpdateExperimentRequest {
  const body: UpdateExperimentRequest = shared(d);
  if (original.status !== 'draft') {
    // Values are locked with the variants; the default value is not (see DefaultValueEditor).
    delete body.variants;
    delete body.layer;
    delete body.valueType;
  } else {
    body.traffic = num(d.traffic);
  }
  return body;
}
