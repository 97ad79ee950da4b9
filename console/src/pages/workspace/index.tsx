// The project workspace, for people signed in: their projects (/projects), a project with its
// members, allocations, jobs and datasets (/projects/{id}), a job with its live log (/jobs/{id}),
// and their API tokens (/tokens). Loaded on demand (lazy.tsx).
import { t } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';
import { JobPage } from './job';
import { ProjectPage } from './project';
import { ProjectsPage } from './projects';
import { TokensPage } from './tokens';
import { usePage } from '../../components/usePage';
import { Loading } from '../../components/loading';

function SignInFirst({ location }: { location: Location }) {
  usePage(t('ws.signin.title'));
  const here = location.query.toString() ? `${location.path}?${location.query}` : location.path;
  return (
    <>
      <h1>{t('ws.signin.title')}</h1>
      <p>
        {t('ws.signin.text')} <a href={`/signin?next=${encodeURIComponent(here)}`}>{t('auth.signin')}</a>
      </p>
    </>
  );
}

export function Workspace({ location }: { location: Location }) {
  const session = useSession();
  if (!session.known) return <Loading text="ws.loading" />;
  if (!session.me) return <SignInFirst location={location} />;
  const path = location.path.replace(/\/+$/, '');
  if (path === '/projects') return <ProjectsPage />;
  if (path === '/tokens') return <TokensPage me={session.me} />;
  let m = /^\/projects\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1] as string);
    return <ProjectPage key={id} id={id} me={session.me} />;
  }
  m = /^\/jobs\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1] as string);
    return <JobPage key={id} id={id} me={session.me} />;
  }
  return null;
}
