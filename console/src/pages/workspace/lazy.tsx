// The workspace's way into the console's shell, and all of it that the public pages carry: which
// addresses are the workspace's, its links in the main navigation (for people signed in), and a
// wrapper that loads its pages with import(), so that Vite puts them (and uPlot) in chunks of
// their own that only a signed-in person's browser downloads.
import { useEffect, useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { t } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';

type Module = typeof import('./index');

let loading: Promise<Module> | null = null;
let loaded: Module | null = null;

function load(): Promise<Module> {
  if (!loading) {
    loading = import('./index').then(
      (m) => (loaded = m),
      (e: unknown) => {
        loading = null;  // a later try loads it afresh
        throw e;
      },
    );
  }
  return loading;
}

const paths = [/^\/projects$/, /^\/projects\/[^/]+$/, /^\/jobs\/[^/]+$/, /^\/tokens$/];

export function isWorkspacePath(path: string): boolean {
  return paths.some((re) => re.test(path));
}

function LazyWorkspace({ location }: { location: Location }) {
  const [mod, setMod] = useState<Module | null>(loaded);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (mod) return;
    let live = true;
    setError(null);
    load().then(
      (m) => live && setMod(m),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [attempt]);
  if (error) {
    return (
      <>
        <h1>{t('error.title')}</h1>
        <ProblemNotice error={error} retry={() => setAttempt((a) => a + 1)} />
      </>
    );
  }
  if (!mod) {
    return (
      <p class="muted" role="status">
        {t('ws.loading')}
      </p>
    );
  }
  return <mod.Workspace location={location} />;
}

// The page for a workspace address, or null for any other.
export function workspaceRoute(location: Location, path: string) {
  return isWorkspacePath(path) ? <LazyWorkspace location={location} /> : null;
}

export function WorkspaceNav({ path }: { path: string }) {
  const session = useSession();
  if (!session.me) return null;
  const projects = path.startsWith('/projects') || path.startsWith('/jobs');
  return (
    <>
      <li>
        <a href="/projects" aria-current={projects ? 'page' : undefined}>
          {t('ws.nav.projects')}
        </a>
      </li>
      <li>
        <a href="/tokens" aria-current={path === '/tokens' ? 'page' : undefined}>
          {t('ws.nav.tokens')}
        </a>
      </li>
    </>
  );
}
