// How the benchmarks' pages write scores, times, sizes, phases and submission states for people.
import { locale, t, type Key } from '../../i18n';
import type { Benchmark, Phase, PhaseState } from './api';
import { phaseState } from './api';

// A score as read: up to six significant digits (the CSV download has every digit).
export function formatScore(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return new Intl.NumberFormat(locale(), { maximumSignificantDigits: 6 }).format(v);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return null;
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

const stateKeys: Record<string, Key> = {
  queued: 'bench.state.queued',
  scoring: 'bench.state.scoring',
  scored: 'bench.state.scored',
  failed: 'bench.state.failed',
  cancelled: 'bench.state.cancelled',
  invalid: 'bench.state.invalid',
};

export function stateLabel(state: string): string {
  const key = stateKeys[state];
  return key ? t(key) : state;
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`bench-state bench-state-${state}`}>{stateLabel(state)}</span>;
}

const taskKeys: Record<string, Key> = {
  binary: 'bench.task.binary',
  multiclass: 'bench.task.multiclass',
  regression: 'bench.task.regression',
};

export function taskLabel(task: string): string {
  const key = taskKeys[task];
  return key ? t(key) : task;
}

const visibilityKeys: Record<string, Key> = {
  public: 'bench.visibility.public',
  registered: 'bench.visibility.registered',
  organisations: 'bench.visibility.organisations',
  invite: 'bench.visibility.invite',
};

export function visibilityLabel(v: string): string {
  const key = visibilityKeys[v];
  return key ? t(key) : v;
}

export function VisibilityBadge({ visibility }: { visibility: Benchmark['visibility'] }) {
  const label = visibilityLabel(visibility);
  return (
    <span class={`badge bench-visibility-${visibility}`} title={label}>
      {label.split(':')[0]}
    </span>
  );
}

const phaseStateKeys: Record<PhaseState, Key> = {
  upcoming: 'bench.phase.upcoming',
  open: 'bench.phase.open',
  ended: 'bench.phase.ended',
};

// "Open until 30 Jun 2027, 09:00", "Opens ...", "Ended ...".
export function phaseWhen(p: Phase, now: number): string {
  const s = phaseState(p, now);
  const time = formatTime(s === 'upcoming' ? p.starts_at : p.ends_at);
  return t(phaseStateKeys[s], { time });
}
