// Loads something from the API for a page: its value, its failure (to be shown, never dropped),
// whether it is loading, and a way to load it again. A newer load aborts an older one.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  value: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const controller = useRef<AbortController | null>(null);
  useEffect(() => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    setError(null);
    load(c.signal).then(
      (v) => {
        if (c.signal.aborted) return;
        setValue(v);
        setLoading(false);
      },
      (e: unknown) => {
        if (c.signal.aborted) return;
        setValue(undefined);
        setError(e);
        setLoading(false);
      },
    );
    return () => c.abort();
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { value, error, loading, reload };
}
