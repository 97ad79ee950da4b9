// One project: its title and status, its members, its allocations (each with its figures in
// words and its burn-down chart), its jobs with a form to submit one, and its datasets.
import { useState } from 'preact/hooks';
import type { Allocation, Job, Me, Project } from '../../api/client';
import { DatasetList } from '../../components/datasetList';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePage } from '../../components/usePage';
import { t } from '../../i18n';
import { ws } from './api';
import { BurnDown, Summary } from './burndown';
import { ListEnd } from './common';
import { formatTime, roleLabel } from './format';
import { JobsTable } from './jobs';
import { SubmitForm } from './submit';
import { usePaged } from '../../components/usePaged';
import { Loading } from '../../components/loading';
import { Fact } from '../../components/fact';

export function ProjectPage({ id, me }: { id: string; me: Me }) {
  const project = useApi((signal) => ws.project(id, signal), [id]);
  const p = project.value;
  usePage(p ? p.title || p.name : project.error ? t('error.title') : null);
  if (project.error) {
    return (
      <>
        <h1>{t('error.title')}</h1>
        <ProblemNotice error={project.error} retry={project.reload} />
      </>
    );
  }
  if (!p) return <Loading text="ws.loading" />;
  return <ProjectView p={p} me={me} />;
}

function ProjectView({ p, me }: { p: Project; me: Me }) {
  const members = usePaged(ws.members(p.id), [p.id]);
  const mine = members.items.find((m) => m.user_id === me.id);
  const role = mine ? mine.role : null;
  return (
    <article class="ws-project">
      <p class="ws-crumbs">
        <a href="/projects">{t('ws.projects.title')}</a>
      </p>
      <h1>{p.title || p.name}</h1>
      {p.description && <p class="lead">{p.description}</p>}
      <dl class="facts">
        <Fact label="ws.project.name" mono>{p.name}</Fact>
        <Fact label="ws.project.status">{t(`ws.project.status.${p.status}` as const)}</Fact>
        {role && (
          <Fact label="ws.project.yourRole">{roleLabel(role)}</Fact>
        )}
        <div>
          <dt>{t('ws.project.created')}</dt>
          <dd>
            <time dateTime={p.created_at}>{formatTime(p.created_at)}</time>
          </dd>
        </div>
      </dl>
      <section aria-labelledby="members">
        <h2 id="members">{t('ws.members.title')}</h2>
        {members.items.length > 0 && (
          <ul class="ws-members">
            {members.items.map((m) => (
              <li key={m.user_id}>
                <span class="mono">{m.username}</span> <span class="muted">· {roleLabel(m.role)}</span>
              </li>
            ))}
          </ul>
        )}
        <ListEnd list={members} empty="ws.members.none" more="ws.members.more" />
      </section>
      <Allocations projectId={p.id} />
      <Jobs projectId={p.id} me={me} role={role} />
      <Datasets projectId={p.id} />
    </article>
  );
}

function Allocations({ projectId }: { projectId: string }) {
  const allocs = useApi((signal) => ws.allocations(projectId, signal), [projectId]);
  return (
    <section aria-labelledby="allocations" aria-busy={allocs.loading}>
      <h2 id="allocations">{t('ws.alloc.title')}</h2>
      {allocs.error ? (
        <ProblemNotice error={allocs.error} retry={allocs.reload} />
      ) : !allocs.value ? (
        <Loading text="ws.loading" />
      ) : allocs.value.items.length === 0 ? (
        <p>{t('ws.alloc.none')}</p>
      ) : (
        allocs.value.items.map((a) => <AllocationView key={a.id} a={a} />)
      )}
    </section>
  );
}

function AllocationView({ a }: { a: Allocation }) {
  const headingId = `alloc-${a.id}`;
  return (
    <section class="ws-alloc" aria-labelledby={headingId} data-allocation={a.id}>
      <h3 id={headingId}>
        {t('ws.alloc.heading', { resource: a.resource })}{' '}
        <span class="muted">({t(`ws.alloc.state.${a.state}` as const)})</span>
      </h3>
      <p class="muted">
        {t('ws.alloc.period', { start: formatTime(a.starts_at), end: formatTime(a.expires_at) })}
        {a.note ? ` · ${a.note}` : ''}
      </p>
      <Summary a={a} />
      <BurnDown a={a} />
    </section>
  );
}

function Jobs({ projectId, me, role }: { projectId: string; me: Me; role: string | null }) {
  const list = usePaged(ws.jobs(projectId), [projectId]);
  const [open, setOpen] = useState(false);
  function submitted(j: Job) {
    list.update((items) => [j, ...items.filter((x) => x.id !== j.id)]);
  }
  return (
    <section aria-labelledby="jobs">
      <h2 id="jobs">{t('ws.jobs.title')}</h2>
      <p class="actions">
        <button type="button" aria-expanded={open} aria-controls="submit-job" onClick={() => setOpen(!open)}>
          {t('ws.submit.open.button')}
        </button>
        <button type="button" class="button-secondary" onClick={list.reload} disabled={list.loading}>
          {t('ws.jobs.refresh')}
        </button>
      </p>
      <div id="submit-job">{open && <SubmitForm projectId={projectId} onSubmitted={submitted} />}</div>
      <JobsTable list={list} me={me} role={role} />
    </section>
  );
}

function Datasets({ projectId }: { projectId: string }) {
  const list = usePaged(ws.datasets(projectId), [projectId]);
  return (
    <section aria-labelledby="datasets">
      <h2 id="datasets">{t('ws.datasets.title')}</h2>
      {list.items.length > 0 && <DatasetList items={list.items} headingLevel={3} />}
      <ListEnd list={list} empty="ws.datasets.none" more="ws.datasets.more" />
    </section>
  );
}
