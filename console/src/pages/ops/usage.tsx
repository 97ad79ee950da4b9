// Usage by organisation or project over a period: GPU-hours, PF-hours, CPU-hours and jobs, in a
// table sorted by any column (the API answers the whole report in one page).
import { useState } from 'preact/hooks';
import { useApi } from '../../components/useApi';
import { formatNumber, t, type Key } from '../../i18n';
import { opsApi } from './api';
import type { UsageRow } from '../../api/client';
import { formatHours, ReportTable } from './common';
import type { SectionProps } from './index';

type Column = 'name' | 'gpu_hours' | 'pf_hours' | 'cpu_hours' | 'jobs';
const columns: { key: Column; label: Key }[] = [
  { key: 'name', label: 'ops.usage.name' },
  { key: 'gpu_hours', label: 'ops.usage.gpu' },
  { key: 'pf_hours', label: 'ops.usage.pf' },
  { key: 'cpu_hours', label: 'ops.usage.cpu' },
  { key: 'jobs', label: 'ops.usage.jobs' },
];

export function Usage(_: SectionProps) {
  const [group, setGroup] = useState<'org' | 'project'>('org');
  const [days, setDays] = useState(30);
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: 'gpu_hours', desc: true });
  const report = useApi(
    (signal) => {
      const until = new Date();
      const since = new Date(until.getTime() - days * 86400_000);
      return opsApi.usage({ group_by: group, since: since.toISOString(), until: until.toISOString() }, signal);
    },
    [group, days],
  );
  const rows = [...(report.value?.items ?? [])].sort((a: UsageRow, b: UsageRow) => {
    const x = sort.by === 'name' ? (a.name || a.id).localeCompare(b.name || b.id) : a[sort.by] - b[sort.by];
    return sort.desc ? -x : x;
  });
  function sortBy(c: Column) {
    setSort((s) => (s.by === c ? { by: c, desc: !s.desc } : { by: c, desc: c !== 'name' }));
  }
  return (
    <>
      <p class="lead">{t('ops.usage.intro')}</p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="usage-group">{t('ops.usage.group')}</label>
          <select id="usage-group" value={group} onChange={(e) => setGroup(e.currentTarget.value as 'org' | 'project')}>
            <option value="org">{t('ops.usage.byOrg')}</option>
            <option value="project">{t('ops.usage.byProject')}</option>
          </select>
        </div>
        <div class="field">
          <label for="usage-days">{t('ops.usage.period')}</label>
          <select id="usage-days" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {[7, 30, 90, 365].map((d) => (
              <option key={d} value={d}>
                {t('ops.usage.days', { days: d })}
              </option>
            ))}
          </select>
        </div>
      </form>
      <section aria-labelledby="usage-title" aria-busy={report.loading}>
        <h2 id="usage-title">{group === 'org' ? t('ops.usage.byOrg') : t('ops.usage.byProject')}</h2>
        <ReportTable
          report={report}
          rows={rows.length}
          none="ops.usage.none"
          caption={t('ops.usage.caption')}
          head={columns.map((c) => (
            <th
              key={c.key}
              scope="col"
              class={c.key === 'name' ? undefined : 'num'}
              aria-sort={sort.by === c.key ? (sort.desc ? 'descending' : 'ascending') : undefined}
            >
              <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                {t(c.label)}
                <span aria-hidden="true">{sort.by === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}</span>
              </button>
            </th>
          ))}
        >
          {rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                {r.name || r.id}
                {r.name && r.name !== r.id && <span class="muted mono small"> {r.id}</span>}
              </th>
              <td class="num" title={Object.entries(r.gpu_hours_by_type).map(([k, v]) => `${k}: ${formatHours(v)}`).join(', ')}>
                {formatHours(r.gpu_hours)}
              </td>
              <td class="num">{formatHours(r.pf_hours)}</td>
              <td class="num">{formatHours(r.cpu_hours)}</td>
              <td class="num">{formatNumber(r.jobs)}</td>
            </tr>
          ))}
        </ReportTable>
      </section>
    </>
  );
}
