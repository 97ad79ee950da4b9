// The console's shell: a skip link, the header (the centre's name, the main navigation, the
// language and the person signed in), the page for the address, and the footer.
import { useEffect, useState } from 'preact/hooks';
import { CentreName } from './components/centre';
import { Lazy } from './components/lazy';
import { ProblemNotice } from './components/problem';
import { locale, locales, setLocale, t, useLocale, type Locale } from './i18n';
import { BenchmarksNav, benchmarksRoute } from './pages/benchmarks/lazy';
import { Catalogue } from './pages/catalogue';
import { DatasetPage } from './pages/dataset';
import { Home } from './pages/home';
import { NotFound } from './pages/notfound';
import { SignIn } from './pages/signin';
import { WorkspaceNav, workspaceRoute } from './pages/workspace/lazy';
import { navigate, useLocation, type Location } from './router';
import { refreshSession, signOut, useSession } from './session';

// Pages for signed-in people, each in a chunk of its own (kept out of the public pages' bundle).
const loadOps = () => import('./pages/ops').then((m) => m.OpsPage);
const loadReview = () => import('./pages/review').then((m) => m.ReviewPage);

function route(location: Location) {
  const path = location.path.replace(/\/+$/, '') || '/';
  if (path === '/') return <Home />;
  if (path === '/datasets') return <Catalogue location={location} />;
  const m = /^\/datasets\/([^/]+)$/.exec(path);
  if (m) return <DatasetPage key={m[1]} id={decodeURIComponent(m[1] as string)} />;
  if (path === '/signin') return <SignIn location={location} />;
  const workspace = workspaceRoute(location, path);
  if (workspace) return workspace;
  const benchmarks = benchmarksRoute(location, path);
  if (benchmarks) return benchmarks;
  if (path === '/ops' || path.startsWith('/ops/')) return <Lazy load={loadOps} props={{ location }} />;
  if (path === '/review') return <Lazy load={loadReview} props={{ location }} />;
  return <NotFound />;
}

function NavLink({ href, current, children }: { href: string; current: boolean; children: string }) {
  return (
    <a href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

function Account({ location }: { location: Location }) {
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  if (!session.known) return null;
  if (!session.me) {
    const here = location.query.toString() ? `${location.path}?${location.query}` : location.path;
    const next = location.path === '/signin' ? '' : `?next=${encodeURIComponent(here)}`;
    return (
      <a class="signin" href={`/signin${next}`}>
        {t('auth.signin')}
      </a>
    );
  }
  async function out() {
    setError(null);
    try {
      await signOut();
      navigate('/');
    } catch (e) {
      setError(e);
    }
  }
  return (
    <div class="account">
      <span class="who">{t('auth.signedInAs', { name: session.me.display_name || session.me.username })}</span>
      <button type="button" class="button-header" onClick={out}>
        {t('auth.signout')}
      </button>
      {error ? <ProblemNotice error={error} /> : null}
    </div>
  );
}

export function App() {
  useLocale();
  const location = useLocation();
  const [startError, setStartError] = useState<unknown>(null);
  const me = useSession().me;
  const operates = !!me && me.platform_roles.some((r) => r === 'operator' || r === 'auditor');
  useEffect(() => {
    refreshSession().catch(setStartError);
  }, []);
  const path = location.path;
  return (
    <>
      <a class="skip" href="#main">
        {t('skip')}
      </a>
      <header class="site-header">
        <div class="bar">
          <a class="brand" href="/">
            <span class="brand-name">
              <CentreName />
            </span>
            <span class="brand-tagline">{t('centre.tagline')}</span>
          </a>
          <nav aria-label={t('nav.label')}>
            <ul>
              <li>
                <NavLink href="/" current={path === '/'}>
                  {t('nav.home')}
                </NavLink>
              </li>
              <li>
                <NavLink href="/datasets" current={path.startsWith('/datasets')}>
                  {t('nav.catalogue')}
                </NavLink>
              </li>
              <BenchmarksNav path={path} />
              <WorkspaceNav path={path} />
              {me && (
                <li>
                  <NavLink href="/review" current={path === '/review'}>
                    {t('review.nav')}
                  </NavLink>
                </li>
              )}
              {operates && (
                <li>
                  <NavLink href="/ops" current={path === '/ops' || path.startsWith('/ops/')}>
                    {t('ops.nav.entry')}
                  </NavLink>
                </li>
              )}
            </ul>
          </nav>
          <div class="tools">
            <label class="lang">
              <span>{t('lang.label')}</span>
              <select value={locale()} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
                {locales.map((l) => (
                  <option key={l.code} value={l.code} lang={l.code}>
                    {l.name}
                  </option>
                ))}
              </select>
            </label>
            <Account location={location} />
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {startError ? <ProblemNotice error={startError} /> : null}
        {route(location)}
      </main>
      <footer class="site-footer">
        <p>
          {t('footer.text')} · <a href="/api/v1/openapi.json">{t('footer.api')}</a>
        </p>
      </footer>
    </>
  );
}
