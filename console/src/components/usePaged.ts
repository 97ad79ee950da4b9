// A list read page by page through the API's cursors ("show more"): the items so far, whether
// there is a next page, a way to load it, the failure of the last load (to be shown, and tried
// again), and a reload from the start. A change of deps starts again from an empty list; a
// reload keeps what is shown until the new first page replaces it.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api/client';

export interface PagedList<T> {
  items: T[];       // empty until the first page has answered
  loaded: boolean;  // whether the first page has answered
  more: boolean;
  loading: boolean;
  error: unknown;
  loadMore: () => void;
  reload: () => void;
  retry: () => void;  // the load that failed, again
  // Changes the items shown (after a write), without a load; nothing before the first page.
  update: (f: (items: T[]) => T[]) => void;
}

const none: never[] = [];

// `load` null: nothing to load yet (what it needs has not arrived).
export function usePaged<T>(
  load: ((cursor: string | undefined, signal: AbortSignal) => Promise<Page<T>>) | null,
  deps: unknown[],
): PagedList<T> {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const controller = useRef<AbortController | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;

  const last = useRef<{ after: string | undefined; append: boolean }>({ after: undefined, append: false });

  const fetchPage = useCallback((after: string | undefined, append: boolean) => {
    last.current = { after, append };
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    setError(null);
    const f = loadRef.current;
    if (!f) return;
    f(after, c.signal).then(
      (page) => {
        if (c.signal.aborted) return;
        setItems((old) => (append && old ? [...old, ...page.items] : page.items));
        setCursor(page.next_cursor);
        setLoading(false);
      },
      (e: unknown) => {
        if (c.signal.aborted) return;
        setError(e);
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => {
    setItems(undefined);
    setCursor(null);
  }, deps);

  useEffect(() => {
    fetchPage(undefined, false);
    return () => controller.current?.abort();
  }, [...deps, generation]);

  const loadMore = useCallback(() => {
    if (cursor) fetchPage(cursor, true);
  }, [cursor]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const retry = useCallback(() => fetchPage(last.current.after, last.current.append), []);
  const update = useCallback((f: (items: T[]) => T[]) => setItems((old) => (old ? f(old) : old)), []);
  return {
    items: items ?? (none as T[]),
    loaded: items !== undefined,
    more: cursor !== null,
    loading,
    error,
    loadMore,
    reload,
    retry,
    update,
  };
}
