// The benchmarks' way into the console's shell, and all of it that the public pages carry: which
// addresses are theirs (/benchmarks, /benchmarks/NAME, /reports/ID) and the link in the main
// navigation. The pages are loaded with import() (components/lazy.tsx), in a chunk of their own.
import { Lazy } from '../../components/lazy';
import { t } from '../../i18n';
import type { Location } from '../../router';

const load = () => import('./index').then((m) => m.Benchmarks);

const paths = [/^\/benchmarks$/, /^\/benchmarks\/[^/]+$/, /^\/reports\/[^/]+$/];

export function benchmarksRoute(location: Location, path: string) {
  return paths.some((re) => re.test(path)) ? (
    <Lazy load={load} props={{ location }} loading="bench.loading" titled />
  ) : null;
}

export function BenchmarksNav({ path }: { path: string }) {
  const current = path === '/benchmarks' || path.startsWith('/benchmarks/') || path.startsWith('/reports/');
  return (
    <li>
      <a href="/benchmarks" aria-current={current ? 'page' : undefined}>
        {t('bench.nav')}
      </a>
    </li>
  );
}
