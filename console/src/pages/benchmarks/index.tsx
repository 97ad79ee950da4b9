// The benchmarks (validation): the list (/benchmarks), a benchmark with its phases, metrics,
// rules, leaderboard and, for a signed-in participant, the submit form and their submissions
// (/benchmarks/NAME), and a signed report that anyone holding its address may read
// (/reports/ID). Loaded on demand (lazy.tsx).
import type { Location } from '../../router';
import { BenchmarkPage } from './benchmark';
import { BenchmarkList } from './list';
import { ReportPage } from './report';
import './benchmarks.css';

export function Benchmarks({ location }: { location: Location }) {
  const path = location.path.replace(/\/+$/, '');
  if (path === '/benchmarks') return <BenchmarkList />;
  let m = /^\/benchmarks\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1] as string);
    return <BenchmarkPage key={id} id={id} location={location} />;
  }
  m = /^\/reports\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1] as string);
    return <ReportPage key={id} id={id} />;
  }
  return null;
}
