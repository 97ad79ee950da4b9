// The centre's organisations, users and projects, each paged by the API's cursor; operators
// onboard an organisation and start a project here (auditors read only).
import { useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { t } from '../../i18n';
import { opsApi } from './api';
import type { Org, Project } from '../../api/client';
import { ListFooter, Named, Section, When } from './common';
import { useSubmit } from '../../components/useSubmit';
import { usePaged } from '../../components/usePaged';
import type { SectionProps } from './index';

const pageSize = 50;

const orgKinds = [
  'company',
  'startup',
  'research_institute',
  'university',
  'school',
  'public_agency',
  'citizen_group',
] as const;

export function Orgs({ operator }: SectionProps) {
  const list = usePaged((cursor, signal) => opsApi.orgs({ limit: pageSize, cursor }, signal), []);
  return (
    <>
      {operator && <CreateOrg onCreated={(x) => list.update((items) => [x, ...items])} />}
      <Section id="orgs-list" title={t('ops.orgs.list')}>
        <div aria-busy={list.loading}>
          {list.items.length > 0 && (
            <div class="table-scroll">
              <table class="data">
                <caption class="visually-hidden">{t('ops.orgs.list')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('ops.orgs.name')}</th>
                    <th scope="col">{t('ops.orgs.kind')}</th>
                    <th scope="col">{t('ops.orgs.region')}</th>
                    <th scope="col">{t('ops.orgs.id')}</th>
                    <th scope="col">{t('ops.created')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((o) => (
                    <tr key={o.id}>
                      <th scope="row">
                        {o.display_name || o.name}
                        {o.display_name && o.display_name !== o.name && <span class="muted mono small"> {o.name}</span>}
                      </th>
                      <td>{t(`ops.orgs.kind.${o.kind}` as const)}</td>
                      <td>{o.region}</td>
                      <td class="mono">{o.id}</td>
                      <td>
                        <When iso={o.created_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <ListFooter list={list} empty="ops.orgs.none" more="ops.orgs.more" />
        </div>
      </Section>
    </>
  );
}

function CreateOrg({ onCreated }: { onCreated: (o: Org) => void }) {
  const [name, setName] = useState('');
  const [display, setDisplay] = useState('');
  const [kind, setKind] = useState<string>('university');
  const [region, setRegion] = useState('');
  const [admin, setAdmin] = useState('');
  const [made, setMade] = useState<Org | null>(null);
  const { busy, error, submit } = useSubmit(
    () =>
      opsApi.createOrg({
        name: name.trim(),
        kind,
        region: region.trim(),
        ...(display.trim() ? { display_name: display.trim() } : {}),
        ...(admin.trim() ? { admin: admin.trim() } : {}),
      }),
    (o) => {
      setMade(o);
      onCreated(o);
      setName('');
      setDisplay('');
      setRegion('');
      setAdmin('');
    },
  );
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="org-new">
      <h2 id="org-new">{t('ops.orgs.create')}</h2>
      <div class="field">
        <label for="org-name">{t('ops.orgs.name.short')}</label>
        <input id="org-name" required pattern="[a-z0-9][a-z0-9\-]{1,62}" aria-describedby="org-name-hint" value={name}
          onInput={(e) => setName(e.currentTarget.value)} />
        <p id="org-name-hint" class="hint">{t('ops.name.hint')}</p>
      </div>
      <div class="field">
        <label for="org-display">{t('ops.orgs.display')}</label>
        <input id="org-display" maxLength={200} value={display} onInput={(e) => setDisplay(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="org-kind">{t('ops.orgs.kind')}</label>
        <select id="org-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          {orgKinds.map((k) => (
            <option key={k} value={k}>
              {t(`ops.orgs.kind.${k}` as const)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="org-region">{t('ops.orgs.region')}</label>
        <input id="org-region" required maxLength={16} aria-describedby="org-region-hint" value={region}
          onInput={(e) => setRegion(e.currentTarget.value)} />
        <p id="org-region-hint" class="hint">{t('ops.orgs.region.hint')}</p>
      </div>
      <div class="field">
        <label for="org-admin">{t('ops.orgs.admin')}</label>
        <input id="org-admin" maxLength={64} aria-describedby="org-admin-hint" value={admin}
          onInput={(e) => setAdmin(e.currentTarget.value)} />
        <p id="org-admin-hint" class="hint">{t('ops.orgs.admin.hint')}</p>
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      {made && !error && (
        <p class="notice notice-ok" role="status">
          {t('ops.orgs.created', { name: made.display_name || made.name, id: made.id })}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.working') : t('ops.orgs.submit')}
        </button>
      </div>
    </form>
  );
}

export function Users(_: SectionProps) {
  const list = usePaged((cursor, signal) => opsApi.users({ limit: pageSize, cursor }, signal), []);
  return (
    <Section id="users-list" title={t('ops.users.list')}>
      <div aria-busy={list.loading}>
        {list.items.length > 0 && (
          <div class="table-scroll">
            <table class="data">
              <caption class="visually-hidden">{t('ops.users.list')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('ops.users.username')}</th>
                  <th scope="col">{t('ops.users.name')}</th>
                  <th scope="col">{t('ops.users.email')}</th>
                  <th scope="col">{t('ops.users.roles')}</th>
                  <th scope="col">{t('ops.users.status')}</th>
                  <th scope="col">{t('ops.created')}</th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((u) => (
                  <tr key={u.id}>
                    <th scope="row">
                      {u.username}
                      <span class="muted mono small"> {u.id}</span>
                    </th>
                    <td>{u.display_name}</td>
                    <td>{u.email}</td>
                    <td>{u.platform_roles.length ? u.platform_roles.join(', ') : '–'}</td>
                    <td>{u.disabled ? t('ops.users.disabled') : t('ops.users.active')}</td>
                    <td>
                      <When iso={u.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <ListFooter list={list} empty="ops.users.none" more="ops.users.more" />
      </div>
    </Section>
  );
}

export function Projects({ operator }: SectionProps) {
  const list = usePaged((cursor, signal) => opsApi.projects({ limit: pageSize, cursor }, signal), []);
  return (
    <>
      {operator && <CreateProject onCreated={(x) => list.update((items) => [x, ...items])} />}
      <Section id="projects-list" title={t('ops.projects.list')}>
        <div aria-busy={list.loading}>
          {list.items.length > 0 && (
            <div class="table-scroll">
              <table class="data">
                <caption class="visually-hidden">{t('ops.projects.list')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('ops.projects.title')}</th>
                    <th scope="col">{t('ops.projects.org')}</th>
                    <th scope="col">{t('ops.projects.status')}</th>
                    <th scope="col">{t('ops.projects.id')}</th>
                    <th scope="col">{t('ops.created')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((p) => (
                    <tr key={p.id}>
                      <th scope="row">
                        {p.title || p.name}
                        {p.title && p.title !== p.name && <span class="muted mono small"> {p.name}</span>}
                      </th>
                      <td>
                        <Named kind="org" id={p.org_id} />
                      </td>
                      <td>{t(`ops.projects.status.${p.status}` as const)}</td>
                      <td class="mono">{p.id}</td>
                      <td>
                        <When iso={p.created_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <ListFooter list={list} empty="ops.projects.none" more="ops.projects.more" />
        </div>
      </Section>
    </>
  );
}

function CreateProject({ onCreated }: { onCreated: (p: Project) => void }) {
  const [org, setOrg] = useState('');
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [pi, setPi] = useState('');
  const [made, setMade] = useState<Project | null>(null);
  // Suggestions for the organisation: the first page of organisations (its id is what is sent).
  const orgs = usePaged((cursor, signal) => opsApi.orgs({ limit: 100, cursor }, signal), []);
  const { busy, error, submit } = useSubmit(
    () =>
      opsApi.createProject({
        org_id: org.trim(),
        name: name.trim(),
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(pi.trim() ? { pi: pi.trim() } : {}),
      }),
    (p) => {
      setMade(p);
      onCreated(p);
      setName('');
      setTitle('');
      setPi('');
    },
  );
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="project-new">
      <h2 id="project-new">{t('ops.projects.create')}</h2>
      <div class="field">
        <label for="project-org">{t('ops.projects.org')}</label>
        <input id="project-org" required list="project-org-list" aria-describedby="project-org-hint" value={org}
          onInput={(e) => setOrg(e.currentTarget.value)} />
        <datalist id="project-org-list">
          {orgs.items.map((o) => (
            <option key={o.id} value={o.id}>
              {o.display_name || o.name}
            </option>
          ))}
        </datalist>
        <p id="project-org-hint" class="hint">{t('ops.projects.org.hint')}</p>
      </div>
      {orgs.error ? <ProblemNotice error={orgs.error} retry={orgs.retry} /> : null}
      <div class="field">
        <label for="project-name">{t('ops.projects.name')}</label>
        <input id="project-name" required pattern="[a-z0-9][a-z0-9\-]{1,62}" aria-describedby="project-name-hint"
          value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <p id="project-name-hint" class="hint">{t('ops.name.hint')}</p>
      </div>
      <div class="field">
        <label for="project-title">{t('ops.projects.title')}</label>
        <input id="project-title" maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="project-pi">{t('ops.projects.pi')}</label>
        <input id="project-pi" maxLength={64} aria-describedby="project-pi-hint" value={pi}
          onInput={(e) => setPi(e.currentTarget.value)} />
        <p id="project-pi-hint" class="hint">{t('ops.projects.pi.hint')}</p>
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      {made && !error && (
        <p class="notice notice-ok" role="status">
          {t('ops.projects.created', { name: made.title || made.name, id: made.id })}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.working') : t('ops.projects.submit')}
        </button>
      </div>
    </form>
  );
}
