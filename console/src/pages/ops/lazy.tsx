// A page loaded with import() when it is first opened, so that its code stays out of what the
// public pages download (Vite puts each imported module in a chunk of its own). A chunk that
// cannot be fetched is told in words, with a way to try again.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { t } from '../../i18n';

const loaded = new Map<() => Promise<unknown>, ComponentType<never>>();

export function Lazy<P extends object>({
  load,
  props,
}: {
  load: () => Promise<ComponentType<P>>;
  props: P;
}) {
  const [Page, setPage] = useState<ComponentType<P> | null>(
    () => (loaded.get(load) as ComponentType<P> | undefined) ?? null,
  );
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (Page) return;
    let live = true;
    setError(null);
    load().then(
      (c) => {
        loaded.set(load, c as ComponentType<never>);
        if (live) setPage(() => c);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [load, attempt]);
  if (error) return <ProblemNotice error={error} retry={() => setAttempt((a) => a + 1)} />;
  if (!Page) {
    return (
      <p class="muted" role="status">
        {t('ops.page.loading')}
      </p>
    );
  }
  return <Page {...props} />;
}
