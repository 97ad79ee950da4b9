// A page loaded with import() when it is first opened, so that its code stays out of what the
// public pages download (Vite puts each imported module in a chunk of its own). A chunk that
// cannot be fetched is told in words, with a way to try again. `load` is the key of what is
// loaded: give the same function each time (one defined once, outside the component).
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t, type Key } from '../i18n';
import { ProblemNotice } from './problem';
import { Loading } from './loading';

const loaded = new Map<() => Promise<unknown>, ComponentType<never>>();

export function Lazy<P extends object>({
  load,
  props,
  loading = 'ops.page.loading',
  titled = false,
}: {
  load: () => Promise<ComponentType<P>>;
  props: P;
  loading?: Key;   // the words while it loads
  titled?: boolean;  // a failure under a heading of its own (the page's own is not there)
}) {
  // Read from the cache at each render, so that an element reused for another page (the same
  // place in the shell, another address) shows that page, not the last.
  const Page = (loaded.get(load) as ComponentType<P> | undefined) ?? null;
  const [, setLoads] = useState(0);
  const [failed, setFailed] = useState<{ load: unknown; error: unknown } | null>(null);
  const error = failed && failed.load === load ? failed.error : null;
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (Page) return;
    let live = true;
    setFailed(null);
    load().then(
      (c) => {
        loaded.set(load, c as ComponentType<never>);
        if (live) setLoads((n) => n + 1);
      },
      (e: unknown) => live && setFailed({ load, error: e }),
    );
    return () => {
      live = false;
    };
  }, [load, attempt]);
  if (error) {
    return (
      <>
        {titled && <h1>{t('error.title')}</h1>}
        <ProblemNotice error={error} retry={() => setAttempt((a) => a + 1)} />
      </>
    );
  }
  if (!Page) {
    return (
      <Loading text={loading} />
    );
  }
  return <Page {...props} />;
}
