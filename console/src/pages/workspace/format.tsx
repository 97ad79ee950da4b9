// How the workspace writes hours, times and job states for people: hours rounded to what a person
// reads (0.0011 h, 2.5 h, 1,200 h), times in the person's language with the time of day.
import { locale, t, type Key } from '../../i18n';

export function formatHours(h: number): string {
  const a = Math.abs(h);
  const opts: Intl.NumberFormatOptions =
    a === 0
      ? { maximumFractionDigits: 0 }
      : a < 1
        ? { maximumSignificantDigits: 2 }
        : a < 100
          ? { maximumFractionDigits: 2 }
          : { maximumFractionDigits: 0 };
  return t('ws.hours', { n: new Intl.NumberFormat(locale(), opts).format(h) });
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

export function formatSeconds(s: number): string {
  if (s < 120) return t('ws.seconds', { n: s });
  if (s < 7200) return t('ws.minutes', { n: Math.round(s / 60) });
  return t('ws.hoursLimit', { n: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(s / 3600) });
}

const stateKeys: Record<string, Key> = {
  queued: 'ws.state.queued',
  held: 'ws.state.held',
  starting: 'ws.state.starting',
  running: 'ws.state.running',
  completing: 'ws.state.completing',
  completed: 'ws.state.completed',
  failed: 'ws.state.failed',
  cancelled: 'ws.state.cancelled',
  preempted: 'ws.state.preempted',
  timeout: 'ws.state.timeout',
  node_fail: 'ws.state.node_fail',
};

export function stateLabel(state: string): string {
  const key = stateKeys[state];
  return key ? t(key) : state;
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`ws-state ws-state-${state}`}>{stateLabel(state)}</span>;
}

const roleKeys: Record<string, Key> = {
  pi: 'ws.role.pi',
  co_pi: 'ws.role.co_pi',
  member: 'ws.role.member',
  student: 'ws.role.student',
};

export function roleLabel(role: string): string {
  const key = roleKeys[role];
  return key ? t(key) : role;
}
