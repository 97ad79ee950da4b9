// The workspace's way into the console's shell, and all of it that the public pages carry: which
// addresses are the workspace's and its links in the main navigation (for people signed in); its
// pages are loaded with import() (components/lazy.tsx), so that Vite puts them (and uPlot) in
// chunks of their own that only a signed-in person's browser downloads.
import { Lazy } from '../../components/lazy';
import { t } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';

const load = () => import('./index').then((m) => m.Workspace);

const paths = [/^\/projects$/, /^\/projects\/[^/]+$/, /^\/jobs\/[^/]+$/, /^\/tokens$/];

export function isWorkspacePath(path: string): boolean {
  return paths.some((re) => re.test(path));
}

// The page for a workspace address, or null for any other.
export function workspaceRoute(location: Location, path: string) {
  return isWorkspacePath(path) ? <Lazy load={load} props={{ location }} loading="ws.loading" titled /> : null;
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
