// My projects: those the API lets the caller see (it filters), page by page.
import { usePage } from '../../components/usePage';
import { t } from '../../i18n';
import { ws } from './api';
import { ListEnd } from './common';
import { usePaged } from '../../components/usePaged';

export function ProjectsPage() {
  usePage(t('ws.projects.title'));
  const list = usePaged(ws.projects, []);
  return (
    <>
      <h1>{t('ws.projects.title')}</h1>
      <p class="lead">{t('ws.projects.intro')}</p>
      <section aria-busy={list.loading}>
        {list.items.length > 0 && (
          <ul class="ws-cards">
            {list.items.map((p) => (
              <li key={p.id} class="ws-card">
                <h2 class="ws-card-title">
                  <a href={`/projects/${encodeURIComponent(p.id)}`}>{p.title || p.name}</a>
                </h2>
                <p class="muted">
                  <span class="mono">{p.name}</span>
                  <span aria-hidden="true"> · </span>
                  <span>{t(`ws.project.status.${p.status}` as const)}</span>
                </p>
                {p.description && <p>{p.description}</p>}
              </li>
            ))}
          </ul>
        )}
        <ListEnd list={list} empty="ws.projects.none" more="ws.projects.more" />
      </section>
    </>
  );
}
