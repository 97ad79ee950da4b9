// The interface's strings in Korean and English (en.json, ko.json: the same keys, checked by
// tsc), the locale chosen from the browser's languages or by the person (kept in localStorage),
// and <html lang> kept in step.
import { useEffect, useState } from 'preact/hooks';
import en from './en.json';
import koStrings from './ko.json';

export type Key = keyof typeof en;
export type Locale = 'en' | 'ko';

// A missing or extra key in ko.json fails the type check.
const ko: Record<Key, string> = koStrings satisfies Record<Key, string>;
type ExtraInKo = Exclude<keyof typeof koStrings, Key>;
const koHasNoExtraKey: [ExtraInKo] extends [never] ? true : ExtraInKo = true;
void koHasNoExtraKey;
const messages: Record<Locale, Record<Key, string>> = { en, ko };

export const locales: { code: Locale; name: string }[] = [
  { code: 'ko', name: '한국어' },
  { code: 'en', name: 'English' },
];

const storageKey = 'openlab.locale';

function isLocale(s: string | null | undefined): s is Locale {
  return s === 'en' || s === 'ko';
}

function readStored(): string | null {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;  // storage refused (private mode, policy): the browser's languages decide
  }
}

export function initialLocale(): Locale {
  const stored = readStored();
  if (isLocale(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

let current: Locale = initialLocale();
const listeners = new Set<() => void>();
document.documentElement.lang = current;

export function locale(): Locale {
  return current;
}

export function setLocale(l: Locale) {
  current = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(storageKey, l);
  } catch {
    // not kept across visits where storage is refused; the choice still holds on this page
  }
  for (const f of listeners) f();
}

// Re-renders the calling component when the locale changes.
export function useLocale(): Locale {
  const [l, set] = useState(current);
  useEffect(() => {
    const f = () => set(current);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return l;
}

// The string for `key` in the current locale, with {name} replaced by vars.name.
export function t(key: Key, vars?: Record<string, string | number>): string {
  const s = messages[current][key];
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in vars ? String(vars[name]) : m,
  );
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(v)} ${units[i]}`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium' }).format(d);
}
