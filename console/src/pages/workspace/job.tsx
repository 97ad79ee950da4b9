// One job: its fields, what it runs, the datasets it reads, its charge, its live log, and the
// export requests of its files; a cancel button where the person may cancel it. When the log's
// answers say the job's state has changed, the job is read again; its end is announced.
import { useCallback, useRef } from 'preact/hooks';
import type { Job, Me } from '../../api/client';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePage } from '../../components/usePage';
import { formatNumber, t } from '../../i18n';
import { hasEnded, ws } from './api';
import { formatHours, formatTime, stateLabel, StateBadge } from './format';
import { CancelButton, mayCancel, resources } from './jobs';
import { LiveLog } from './log';
import { usePaged } from '../../components/usePaged';
import { Loading } from '../../components/loading';
import { Fact } from '../../components/fact';

export function JobPage({ id, me }: { id: string; me: Me }) {
  const job = useApi((signal) => ws.job(id, signal), [id]);
  const j = job.value;
  // The project's members: who submitted the job, and whether this person may cancel it. A
  // failure here leaves the ids shown and no cancel button; it is said under the fields.
  const members = usePaged(j ? ws.members(j.project_id) : null, [j?.project_id]);
  const role = members.items.find((m) => m.user_id === me.id)?.role ?? null;
  usePage(j ? t('ws.job.title', { name: j.name }) : job.error ? t('error.title') : null);
  const known = useRef<string | null>(null);
  if (j) known.current = j.state;
  // The log's answers carry the job's state: a change is read in full (times, charge, exit code).
  const onState = useCallback(
    (s: string) => {
      if (s && known.current !== null && s !== known.current) {
        known.current = s;
        job.reload();
      }
    },
    [job.reload],
  );
  if (!j) {
    if (job.error) {
      return (
        <>
          <h1>{t('error.title')}</h1>
          <ProblemNotice error={job.error} retry={job.reload} />
        </>
      );
    }
    return <Loading text="ws.loading" />;
  }
  return (
    <article class="ws-job">
      <p class="ws-crumbs">
        <a href={`/projects/${encodeURIComponent(j.project_id)}`}>{t('ws.job.project')}</a>
      </p>
      <h1>{t('ws.job.title', { name: j.name })}</h1>
      {job.error ? <ProblemNotice error={job.error} retry={job.reload} /> : null}
      <p class="ws-job-state">
        <StateBadge state={j.state} /> {j.reason && <span>{j.reason}</span>}
      </p>
      <Fields j={j} submitter={members.items.find((m) => m.user_id === j.user_id)?.username ?? null} />
      {members.error ? <ProblemNotice error={members.error} retry={members.retry} /> : null}
      {mayCancel(j, me, role) && (
        <p class="actions">
          <CancelButton job={j} onDone={job.reload} />
        </p>
      )}
      <section aria-labelledby="job-run">
        <h2 id="job-run">{t('ws.job.runs')}</h2>
        {j.script ? (
          <pre class="ws-code" tabIndex={0} aria-label={t('ws.job.script')}>{j.script}</pre>
        ) : (
          <pre class="ws-code" tabIndex={0} aria-label={t('ws.job.command')}>{j.command.map((a) => JSON.stringify(a)).join(' ')}</pre>
        )}
      </section>
      <Inputs j={j} />
      <section aria-labelledby="job-log">
        <h2 id="job-log">{t('ws.log.title')}</h2>
        <LiveLog jobId={j.id} onState={onState} />
        <p role="status" class="ws-log-end">
          {hasEnded(j.state)
            ? j.exit_code !== null
              ? t('ws.log.ended.code', { state: stateLabel(j.state), code: j.exit_code })
              : t('ws.log.ended', { state: stateLabel(j.state) })
            : ''}
        </p>
      </section>
      <Exports jobId={j.id} />
    </article>
  );
}

function Fields({ j, submitter }: { j: Job; submitter: string | null }) {
  const time = (iso: string | null) => (iso ? <time dateTime={iso}>{formatTime(iso)}</time> : <span class="muted">–</span>);
  return (
    <dl class="facts">
      <Fact label="ws.job.id" mono>{j.id}</Fact>
      <Fact label="ws.job.submitted">{time(j.submitted_at)}</Fact>
      <Fact label="ws.job.started">{time(j.started_at)}</Fact>
      <Fact label="ws.job.ended">{time(j.ended_at)}</Fact>
      <Fact label="ws.job.exitCode">{j.exit_code === null ? <span class="muted">–</span> : j.exit_code}</Fact>
      <Fact label="ws.job.resources">{resources(j)}</Fact>
      <div>
        <dt>{t('ws.job.charge')}</dt>
        <dd data-figure="charge">{t('ws.job.charge.value', { hours: formatHours(j.charged_hours), resource: j.resource || '–' })}</dd>
      </div>
      <Fact label="ws.job.node" mono>{j.node || '–'}</Fact>
      <Fact label="ws.job.class">{j.class}</Fact>
      <Fact label="ws.job.submitter" mono>{submitter ?? j.user_id}</Fact>
      {j.sandbox && (
        <div class="ws-wide">
          <dt>{t('ws.job.sandbox')}</dt>
          <dd>{j.sandbox}</dd>
        </div>
      )}
    </dl>
  );
}

function Inputs({ j }: { j: Job }) {
  const data = j.data ?? [];
  return (
    <section aria-labelledby="job-data">
      <h2 id="job-data">{t('ws.job.data')}</h2>
      {j.sealed && <p class="notice">{t('ws.job.sealed')}</p>}
      {data.length === 0 ? (
        <p>{t('ws.job.data.none')}</p>
      ) : (
        <table class="ws-table">
          <thead>
            <tr>
              <th scope="col">{t('ws.job.data.as')}</th>
              <th scope="col">{t('ws.job.data.dataset')}</th>
              <th scope="col">{t('ws.job.data.version')}</th>
              <th scope="col">{t('ws.job.data.access')}</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.as}>
                <td class="mono">{d.as}</td>
                <td>{d.dataset_id ? <a href={`/datasets/${encodeURIComponent(d.dataset_id)}`} class="mono">{d.dataset_id}</a> : '–'}</td>
                <td class="mono">{d.version_id ? d.version_id.slice(0, 12) : '–'}</td>
                <td>
                  {d.access_level ?? '–'}
                  {d.sealed ? ` · ${t('ws.job.data.sealed')}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Exports({ jobId }: { jobId: string }) {
  const list = useApi((signal) => ws.exports(jobId, signal), [jobId]);
  return (
    <section aria-labelledby="job-exports" aria-busy={list.loading}>
      <h2 id="job-exports">{t('ws.exports.title')}</h2>
      {list.error ? (
        <ProblemNotice error={list.error} retry={list.reload} />
      ) : !list.value ? (
        <Loading text="ws.loading" />
      ) : list.value.items.length === 0 ? (
        <p>{t('ws.exports.none')}</p>
      ) : (
        <table class="ws-table">
          <thead>
            <tr>
              <th scope="col">{t('ws.exports.created')}</th>
              <th scope="col">{t('ws.exports.state')}</th>
              <th scope="col">{t('ws.exports.purpose')}</th>
              <th scope="col">{t('ws.exports.files')}</th>
              <th scope="col">{t('ws.exports.decision')}</th>
            </tr>
          </thead>
          <tbody>
            {list.value.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <time dateTime={e.created_at}>{formatTime(e.created_at)}</time>
                </td>
                <td>{t(`ws.exports.state.${e.state}` as const)}</td>
                <td>{e.purpose}</td>
                <td>
                  <ul class="ws-files">
                    {e.files.map((f) => (
                      <li key={f.path}>
                        {e.state === 'approved' ? (
                          <a href={`/api/v1/exports/${encodeURIComponent(e.id)}/file?path=${encodeURIComponent(f.path)}`} download={f.path.split('/').pop()}>
                            {f.path}
                          </a>
                        ) : (
                          <span class="mono">{f.path}</span>
                        )}{' '}
                        <span class="muted">({formatNumber(f.size)} B)</span>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {e.decided_at ? (
                    <>
                      <time dateTime={e.decided_at}>{formatTime(e.decided_at)}</time>
                      {e.reason ? `: ${e.reason}` : ''}
                    </>
                  ) : (
                    <span class="muted">{t('ws.exports.waiting')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
