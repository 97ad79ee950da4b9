// One dataset: its metadata, its datasheet (Markdown, rendered safely), its versions, the files
// of the newest version, its Croissant metadata, and, for a signed-in person, asking for access
// and contributing.
import { useState } from 'preact/hooks';
import { api, links } from '../api/client';
import type { Dataset, DatasetVersion as Version } from '../api/client';
import { AccessBadge } from '../components/datasetList';
import { Markdown } from '../components/markdown';
import { ProblemNotice } from '../components/problem';
import { useApi } from '../components/useApi';
import { usePage } from '../components/usePage';
import { formatBytes, formatDate, formatNumber, t } from '../i18n';
import { useSession } from '../session';
import { ApiError } from '../api/client';
import { AccessRequestForm, ContributionForm } from './datasetForms';
import { Loading } from '../components/loading';
import { Fact } from '../components/fact';

const filesShown = 200;

export function DatasetPage({ id }: { id: string }) {
  const dataset = useApi((signal) => api.getDataset(id, signal), [id]);
  usePage(dataset.value ? dataset.value.title || dataset.value.name : dataset.error ? t('error.title') : null);
  if (dataset.error) {
    return (
      <>
        <h1>{t('error.title')}</h1>
        <ProblemNotice error={dataset.error} retry={dataset.reload} />
      </>
    );
  }
  if (!dataset.value) {
    return (
      <Loading text="dataset.loading" />
    );
  }
  return <DatasetView d={dataset.value} />;
}

function DatasetView({ d }: { d: Dataset }) {
  const session = useSession();
  return (
    <article class="dataset">
      <h1>{d.title || d.name}</h1>
      {d.description && <p class="lead">{d.description}</p>}
      <dl class="facts">
        <Fact label="dataset.name" mono>{d.name}</Fact>
        <Fact label="dataset.license">{d.license}</Fact>
        <div>
          <dt>{t('dataset.access')}</dt>
          <dd>
            <AccessBadge level={d.access_level} /> {t(`access.${d.access_level}` as const)}
          </dd>
        </div>
        <Fact label="dataset.owner" mono>{d.project_id ?? d.org_id}</Fact>
        <div>
          <dt>{t('dataset.updated')}</dt>
          <dd>
            <time dateTime={d.updated_at}>{formatDate(d.updated_at)}</time>
          </dd>
        </div>
        {d.tags.length > 0 && (
          <div>
            <dt>{t('dataset.tags')}</dt>
            <dd>
              {d.tags.map((tag) => (
                <a key={tag} class="tag" href={`/datasets?tag=${encodeURIComponent(tag)}`}>
                  {tag}
                </a>
              ))}
            </dd>
          </div>
        )}
      </dl>
      <p class="actions">
        <a class="button-secondary" href={links.croissant(d.id)} download={`${d.name}.croissant.json`}>
          {t('dataset.croissant')}
        </a>
      </p>
      {session.known && <Actions d={d} signedIn={session.me !== null} />}
      <section aria-labelledby="datasheet">
        <h2 id="datasheet">{t('dataset.datasheet')}</h2>
        {d.datasheet.trim() ? <Markdown source={d.datasheet} /> : <p>{t('dataset.datasheet.none')}</p>}
      </section>
      <Versions d={d} />
    </article>
  );
}

function Actions({ d, signedIn }: { d: Dataset; signedIn: boolean }) {
  const [open, setOpen] = useState<'access' | 'contribute' | null>(null);
  const canAsk = ['consortium', 'project', 'restricted'].includes(d.access_level);
  if (!signedIn) {
    return canAsk || d.accepts_contributions ? (
      <p class="muted">
        <a href="/signin">{t('auth.signin')}</a>: {t('dataset.signinToAct')}
      </p>
    ) : null;
  }
  if (!canAsk && !d.accepts_contributions) return null;
  return (
    <section class="dataset-actions">
      <p class="actions">
        {canAsk && (
          <button type="button" aria-expanded={open === 'access'} onClick={() => setOpen(open === 'access' ? null : 'access')}>
            {t('dataset.requestAccess')}
          </button>
        )}
        {d.accepts_contributions && (
          <button
            type="button"
            aria-expanded={open === 'contribute'}
            onClick={() => setOpen(open === 'contribute' ? null : 'contribute')}
          >
            {t('dataset.contribute')}
          </button>
        )}
      </p>
      {open === 'access' && <AccessRequestForm d={d} onClose={() => setOpen(null)} />}
      {open === 'contribute' && <ContributionForm d={d} onClose={() => setOpen(null)} />}
    </section>
  );
}

function Versions({ d }: { d: Dataset }) {
  const versions = useApi((signal) => api.listVersions(d.id, { limit: 20 }, signal), [d.id]);
  const hidden =
    versions.error instanceof ApiError && (versions.error.status === 403 || versions.error.status === 404);
  return (
    <section aria-labelledby="versions" aria-busy={versions.loading}>
      <h2 id="versions">{t('dataset.versions')}</h2>
      {hidden ? (
        <p>{t('dataset.versions.hidden')}</p>
      ) : versions.error ? (
        <ProblemNotice error={versions.error} retry={versions.reload} />
      ) : !versions.value ? (
        <p class="muted">{t('dataset.loading')}</p>
      ) : versions.value.items.length === 0 ? (
        <p>{t('dataset.versions.none')}</p>
      ) : (
        <>
          <ol class="versions">
            {versions.value.items.map((v) => (
              <li key={v.id}>
                <span class="mono">{v.tags.length ? v.tags.join(', ') : v.id.slice(0, 12)}</span>{' '}
                <time dateTime={v.created_at}>{formatDate(v.created_at)}</time>{' '}
                <span>{t('dataset.version.files', { files: formatNumber(v.files), bytes: formatBytes(v.bytes) })}</span>
                {v.message && <span class="muted"> · {v.message}</span>}
              </li>
            ))}
          </ol>
          <Files d={d} v={versions.value.items[0] as Version} />
        </>
      )}
    </section>
  );
}

function Files({ d, v }: { d: Dataset; v: Version }) {
  const files = useApi((signal) => api.listFiles(d.id, v.id, { limit: filesShown }, signal), [d.id, v.id]);
  return (
    <section aria-labelledby="files" aria-busy={files.loading}>
      <h3 id="files">{t('dataset.files')}</h3>
      {files.error ? (
        <ProblemNotice error={files.error} retry={files.reload} />
      ) : !files.value ? (
        <p class="muted">{t('dataset.loading')}</p>
      ) : (
        <>
          <table class="files">
            <thead>
              <tr>
                <th scope="col">{t('dataset.files.path')}</th>
                <th scope="col" class="num">
                  {t('dataset.files.size')}
                </th>
              </tr>
            </thead>
            <tbody>
              {files.value.items.map((f) => (
                <tr key={f.path}>
                  <td class="mono">
                    {f.quarantined ? (
                      <>
                        {f.path} <span class="muted">({t('dataset.files.quarantined')})</span>
                      </>
                    ) : f.sha256 ? (
                      <a
                        href={links.file(d.id, v.id, f.path)}
                        download={f.path.split('/').pop()}
                        aria-label={t('dataset.files.download', { path: f.path })}
                      >
                        {f.path}
                      </a>
                    ) : (
                      f.path
                    )}
                  </td>
                  <td class="num">{formatBytes(f.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {files.value.next_cursor && <p class="muted">{t('dataset.files.more', { count: filesShown })}</p>}
        </>
      )}
    </section>
  );
}
