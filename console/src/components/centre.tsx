// The centre this server is: its name and description (`openlab serve --centre-name`,
// --centre-description) and its live figures, from GET /api/v1/centre (anyone may read it). Read
// once for the header and the document's title, and again each time the home page opens (its
// figures are live). Until it has answered, or where it fails, the name is the interface's own
// (i18n centre.name); the home page tells the failure.
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api/client';
import type { components } from '../api/schema';
import { formatNumber, t } from '../i18n';

export type Centre = components['schemas']['Centre'];
export type Figure = components['schemas']['Figure'];

export interface CentreState {
  value: Centre | undefined;
  error: unknown;
  loading: boolean;
}

let state: CentreState = { value: undefined, error: null, loading: false };
let inFlight: Promise<void> | null = null;
const listeners = new Set<() => void>();

function set(s: CentreState) {
  state = s;
  for (const f of listeners) f();
}

// Asks the server again, unless a question is already on its way; failures are kept in the
// state for the page to show, never thrown away.
export function refreshCentre(): Promise<void> {
  if (inFlight) return inFlight;
  set({ ...state, loading: true, error: null });
  inFlight = request<Centre>('GET', '/api/v1/centre').then(
    (value) => {
      inFlight = null;
      set({ value, error: null, loading: false });
    },
    (error: unknown) => {
      inFlight = null;
      set({ ...state, error, loading: false });
    },
  );
  return inFlight;
}

export function useCentre(): CentreState {
  const [s, setS] = useState(state);
  useEffect(() => {
    const f = () => setS(state);
    listeners.add(f);
    if (!state.value && !state.loading && !state.error) void refreshCentre();
    f();
    return () => {
      listeners.delete(f);
    };
  }, []);
  return s;
}

// The centre's name: the server's, or the interface's own until it is known.
export function useCentreName(): string {
  const { value } = useCentre();
  return value?.name || t('centre.name');
}

export function CentreName() {
  return <>{useCentreName()}</>;
}

function count(f: Figure): string {
  const n = formatNumber(f.value);
  return f.more ? t('centre.figures.more', { n }) : n;
}

// One entry of the grid: a label and one or more values (one per accelerator type for GPUs).
interface Entry {
  key: string;
  label: string;
  values: string[];
}

// The figures the console knows, in its order; keys it does not know (a later capability's)
// are left out.
export function figureEntries(figures: Figure[]): Entry[] {
  const find = (key: string, type?: string) =>
    figures.find((f) => f.key === key && (type === undefined || (f.type ?? '') === type));
  const out: Entry[] = [];
  const gpuTypes: string[] = [];
  for (const f of figures) {
    if (f.key === 'gpus' && !gpuTypes.includes(f.type ?? '')) gpuTypes.push(f.type ?? '');
  }
  if (gpuTypes.length > 0) {
    out.push({
      key: 'gpus',
      label: t('centre.figures.gpus'),
      values: gpuTypes.map((type) => {
        const total = find('gpus', type) as Figure;
        const busy = find('gpus_busy', type);
        const vars = { type: type || t('centre.figures.gpus.anyType'), total: count(total) };
        return busy
          ? t('centre.figures.gpus.busy', { ...vars, busy: count(busy) })
          : t('centre.figures.gpus.total', vars);
      }),
    });
  }
  const cpus = find('cpus');
  if (cpus) {
    const busy = find('cpus_busy');
    out.push({
      key: 'cpus',
      label: t('centre.figures.cpus'),
      values: [
        busy
          ? t('centre.figures.cpus.busy', { busy: count(busy), total: count(cpus) })
          : count(cpus),
      ],
    });
  }
  const single = [
    ['jobs_running', t('centre.figures.jobs_running')],
    ['jobs_queued', t('centre.figures.jobs_queued')],
    ['datasets_listed', t('centre.figures.datasets_listed')],
    ['projects_active', t('centre.figures.projects_active')],
  ] as const;
  for (const [key, label] of single) {
    const f = find(key);
    if (f) out.push({ key, label, values: [count(f)] });
  }
  return out;
}

// The figures as a list of terms and values (the section around it names it).
export function CentreFigures({ figures }: { figures: Figure[] }) {
  const entries = figureEntries(figures);
  if (entries.length === 0) return <p>{t('centre.figures.none')}</p>;
  return (
    <dl class="centre-figures">
      {entries.map((e) => (
        <div key={e.key} class={`figure figure-${e.key}`}>
          <dt>{e.label}</dt>
          {e.values.map((v) => (
            <dd key={v}>{v}</dd>
          ))}
        </div>
      ))}
    </dl>
  );
}
