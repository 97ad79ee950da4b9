// A project's jobs, newest first and page by page: state, why a job waits (or how it ended), its
// times, its resources and charge, and a cancel button where the person may cancel it (the job is
// theirs, they are the project's PI or a co-PI, or they run the centre). A refusal is said in
// words, never dropped.
import type { Job, Me } from '../../api/client';
import { ProblemNotice } from '../../components/problem';
import { useSubmit } from '../../components/useSubmit';
import { t } from '../../i18n';
import { hasEnded, ws } from './api';
import { ListEnd } from './common';
import { formatHours, formatSeconds, formatTime, StateBadge } from './format';
import type { PagedList } from '../../components/usePaged';

// Whether the person may cancel the job: the API's policy (jobs.cancel), read on this side only
// to show or hide the button; the server decides.
export function mayCancel(job: Job, me: Me, role: string | null): boolean {
  if (hasEnded(job.state)) return false;
  return job.user_id === me.id || role === 'pi' || role === 'co_pi' || me.platform_roles.includes('operator');
}

export function CancelButton({ job, onDone }: { job: Job; onDone: (j: Job) => void }) {
  const { busy, error, done: asked, submit: cancel } = useSubmit(() => ws.cancel(job.id), onDone);
  return (
    <div class="ws-cancel">
      <button
        type="button"
        class="button-secondary"
        disabled={busy}
        onClick={() => void cancel()}
        aria-label={t('ws.job.cancel.label', { name: job.name })}
      >
        {busy ? t('common.working') : t('ws.job.cancel')}
      </button>
      {asked && !error ? (
        <p role="status" class="muted">
          {t('ws.job.cancel.asked')}
        </p>
      ) : null}
      {error ? <ProblemNotice error={error} /> : null}
    </div>
  );
}

export function JobsTable({
  list,
  me,
  role,
}: {
  list: PagedList<Job>;
  me: Me;
  role: string | null;
}) {
  const replace = (j: Job) => list.update((items) => items.map((x) => (x.id === j.id ? { ...x, ...j } : x)));
  return (
    <>
      {list.items.length > 0 && (
        <div class="ws-scroll" role="region" aria-label={t('ws.jobs.title')} tabIndex={0}>
          <table class="ws-table ws-jobs">
            <thead>
              <tr>
                <th scope="col">{t('ws.job.name')}</th>
                <th scope="col">{t('ws.job.state')}</th>
                <th scope="col">{t('ws.job.reason')}</th>
                <th scope="col">{t('ws.job.submitted')}</th>
                <th scope="col">{t('ws.job.started')}</th>
                <th scope="col">{t('ws.job.ended')}</th>
                <th scope="col">{t('ws.job.resources')}</th>
                <th scope="col" class="num">{t('ws.job.charge')}</th>
                <th scope="col">
                  <span class="ws-sr">{t('ws.job.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((j) => (
                <tr key={j.id} data-job={j.id}>
                  <td>
                    <a href={`/jobs/${encodeURIComponent(j.id)}`}>{j.name}</a>
                  </td>
                  <td>
                    <StateBadge state={j.state} />
                  </td>
                  <td>{j.reason}</td>
                  <td>
                    <time dateTime={j.submitted_at}>{formatTime(j.submitted_at)}</time>
                  </td>
                  <td>{j.started_at && <time dateTime={j.started_at}>{formatTime(j.started_at)}</time>}</td>
                  <td>{j.ended_at && <time dateTime={j.ended_at}>{formatTime(j.ended_at)}</time>}</td>
                  <td>{resources(j)}</td>
                  <td class="num">{formatHours(j.charged_hours)}</td>
                  <td>{mayCancel(j, me, role) ? <CancelButton job={j} onDone={replace} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ListEnd list={list} empty="ws.jobs.none" more="ws.jobs.more" />
    </>
  );
}

export function resources(j: Job): string {
  const parts = [t('ws.job.cpus', { n: j.cpus })];
  if (j.gpus > 0) parts.push(t('ws.job.gpus', { n: j.gpus, type: j.gpu_type || t('ws.job.anyGpu') }));
  parts.push(formatSeconds(j.time_limit_s));
  return parts.join(', ');
}
