// Hoarding: active allocations used far below their pace (used over the part of the grant's time
// gone; under 1 is behind), so that hours held back can be lent elsewhere.
import { useApi } from '../../components/useApi';
import { locale, t } from '../../i18n';
import { opsApi } from './api';
import { formatHours, formatPercent, ReportTable } from './common';
import type { SectionProps } from './index';

export function Hoarding(_: SectionProps) {
  const report = useApi((signal) => opsApi.hoarding(signal), []);
  const pace = (p: number) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(p);
  return (
    <>
      <p class="lead">{t('ops.hoard.intro')}</p>
      <section aria-labelledby="hoard-title" aria-busy={report.loading}>
        <h2 id="hoard-title" class="visually-hidden">
          {t('ops.nav.hoarding')}
        </h2>
        <ReportTable
          report={report}
          rows={report.value?.items.length ?? 0}
          none="ops.hoard.none"
          caption={t('ops.nav.hoarding')}
          head={
            <>
              <th scope="col">{t('ops.hoard.project')}</th>
              <th scope="col">{t('ops.hoard.resource')}</th>
              <th scope="col" class="num">{t('ops.hoard.granted')}</th>
              <th scope="col" class="num">{t('ops.hoard.used')}</th>
              <th scope="col" class="num">{t('ops.hoard.held')}</th>
              <th scope="col" class="num">{t('ops.hoard.elapsed')}</th>
              <th scope="col" class="num">{t('ops.hoard.pace')}</th>
            </>
          }
        >
          {report.value?.items.map((h) => (
            <tr key={h.allocation_id}>
              <th scope="row">
                {h.project || h.project_id}
                <span class="muted mono small"> {h.allocation_id}</span>
              </th>
              <td>{h.resource}</td>
              <td class="num">{formatHours(h.granted_hours)}</td>
              <td class="num">{formatHours(h.used_hours)}</td>
              <td class="num">{formatHours(h.held_hours)}</td>
              <td class="num">{formatPercent(h.elapsed)}</td>
              <td class="num">
                {pace(h.pace)} {h.pace < 1 && <span class="badge badge-behind">{t('ops.hoard.behind')}</span>}
              </td>
            </tr>
          ))}
        </ReportTable>
      </section>
    </>
  );
}
