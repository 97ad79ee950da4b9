// Client-side routing on real paths: the server answers index.html for every GET outside /api/
// and /assets/, so any console address can be opened, reloaded or shared. Same-origin links are
// followed without a page load; the back and forward buttons work.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

function notify() {
  for (const f of listeners) f();
}

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

export function useLocation(): Location {
  const [loc, set] = useState(read);
  useEffect(() => {
    const f = () => set(read());
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return loc;
}

// Links the console handles itself: same origin, not the API, no target, no download, no
// modifier key (a person opening a link in a new tab keeps that).
function onClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
    return;
  }
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || !a.href || a.hasAttribute('download') || (a.target && a.target !== '_self')) return;
  const url = new URL(a.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
  const samePage = url.pathname === window.location.pathname && url.search === window.location.search;
  // A fragment of this page (the skip link): the browser scrolls to it and moves focus there.
  if (samePage && url.hash) return;
  e.preventDefault();
  if (!samePage) navigate(url.pathname + url.search + url.hash);
}

export function startRouter() {
  window.addEventListener('popstate', notify);
  document.addEventListener('click', onClick);
}
