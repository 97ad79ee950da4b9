// The queue and the running jobs across the centre, newest first, each list paged by the API's
// cursor: which project and who, what it asks for, and why it waits.
import { t, type Key } from '../../i18n';
import { opsApi } from './api';
import type { Job } from '../../api/client';
import { ListFooter, Named, Section, When } from './common';
import { usePaged } from '../../components/usePaged';
import type { SectionProps } from './index';

const pageSize = 50;

export function Jobs(_: SectionProps) {
  return (
    <>
      <p class="lead">{t('ops.jobs.intro')}</p>
      <JobList state="queued" title="ops.jobs.queued" empty="ops.jobs.queued.none" />
      <JobList state="running" title="ops.jobs.running" empty="ops.jobs.running.none" />
    </>
  );
}

function JobList({ state, title, empty }: { state: 'queued' | 'running'; title: Key; empty: Key }) {
  const list = usePaged(
    (cursor, signal) => opsApi.jobs({ state, order: 'newest', limit: pageSize, cursor }, signal),
    [state],
  );
  return (
    <Section id={`jobs-${state}`} title={t(title)}>
      <div aria-busy={list.loading}>
        {list.items.length > 0 && <JobTable jobs={list.items} caption={t(title)} />}
        <ListFooter list={list} empty={empty} more="ops.jobs.more" />
      </div>
    </Section>
  );
}

function JobTable({ jobs, caption }: { jobs: Job[]; caption: string }) {
  return (
    <div class="table-scroll">
      <table class="data">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('ops.jobs.job')}</th>
            <th scope="col">{t('ops.jobs.project')}</th>
            <th scope="col">{t('ops.jobs.user')}</th>
            <th scope="col">{t('ops.jobs.asks')}</th>
            <th scope="col">{t('ops.jobs.reason')}</th>
            <th scope="col">{t('ops.jobs.submitted')}</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id}>
              <td>
                <span class="mono">{j.id}</span>
                <br />
                {j.name}
              </td>
              <td>
                <Named kind="project" id={j.project_id} />
              </td>
              <td>
                <Named kind="user" id={j.user_id} />
              </td>
              <td>
                {j.gpus > 0
                  ? t('ops.jobs.gpus', { gpus: j.gpus, type: j.gpu_type || t('ops.jobs.anyType') })
                  : t('ops.jobs.cpus', { cpus: j.cpus })}
              </td>
              <td>{j.reason || (j.state === 'running' ? j.node : '')}</td>
              <td>
                <When iso={j.submitted_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
