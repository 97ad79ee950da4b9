// Who is signed in: read from GET /api/v1/me at start (the HttpOnly cookie is not readable here),
// set by signing in and out. /me also gives a cookie session its CSRF token, so a reloaded page or
// a new tab can write.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken } from './api/client';
import type { Me } from './api/client';

export interface Session {
  known: boolean;  // false until /me has answered
  me: Me | null;
}

let state: Session = { known: false, me: null };
const listeners = new Set<() => void>();

function set(s: Session) {
  state = s;
  for (const f of listeners) f();
}

export function useSession(): Session {
  const [s, setS] = useState(state);
  useEffect(() => {
    const f = () => setS(state);
    listeners.add(f);
    f();
    return () => listeners.delete(f);
  }, []);
  return s;
}

// Asks the server who this browser is. Anonymous is an answer (401), not a failure; any other
// failure is thrown for the caller to show.
export async function refreshSession(): Promise<void> {
  try {
    const me = await api.me();
    // A cookie session's token (a server without it in /me leaves the login's in place).
    if (me.csrf_token) setCsrfToken(me.csrf_token);
    set({ known: true, me });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setCsrfToken(null);
      set({ known: true, me: null });
      return;
    }
    set({ known: true, me: null });
    throw e;
  }
}

export async function signIn(username: string, password: string): Promise<void> {
  const reply = await api.login({ username, password });
  setCsrfToken(reply.csrf_token);
  await refreshSession();
}

export async function signOut(): Promise<void> {
  await api.logout();
  setCsrfToken(null);
  set({ known: true, me: null });
}
