// A write a person starts (a form sent, a button pressed): busy while it runs, its failure kept to
// be shown, what it answered, and `onDone` told of that answer.
import { useState } from 'preact/hooks';

export function useSubmit<T>(act: () => Promise<T>, onDone?: (v: T) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<T | null>(null);
  async function submit(e?: Event) {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const v = await act();
      setDone(v);
      onDone?.(v);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, submit, setError };
}
