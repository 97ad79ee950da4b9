// What the operator and review pages share: the footer of a list paged by the API's cursors
// ("show more"; components/usePaged.ts reads it) (the failure in plain words, the empty list said so), names for ids, dates with
// their time, hours for people, and a form's submit state.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Loading } from '../../components/loading';
import { ProblemNotice } from '../../components/problem';
import type { Loaded } from '../../components/useApi';
import { locale, t, type Key } from '../../i18n';
import { opsApi, reviewApi } from './api';
import type { PagedList } from '../../components/usePaged';

// Under a list: how many are shown, the failure if any (with a retry), "show more" while the
// API has a next page, and in words when the list is empty.
export function ListFooter<T>({ list, empty, more }: { list: PagedList<T>; empty: Key; more: Key }) {
  return (
    <>
      <p class="results-status" role="status">
        {list.loading && list.items.length === 0
          ? t('ops.loading')
          : list.items.length === 0 && !list.error
            ? t(empty)
            : list.items.length > 0
              ? list.more
                ? t('ops.shown.more', { count: list.items.length })
                : t('ops.shown', { count: list.items.length })
              : ''}
      </p>
      {list.error ? <ProblemNotice error={list.error} retry={list.retry} /> : null}
      {list.more && !list.error && (
        <button type="button" class="button-secondary" disabled={list.loading} onClick={list.loadMore}>
          {list.loading ? t('ops.loading') : t(more)}
        </button>
      )}
    </>
  );
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return null;
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}

// Hours as a person reads them: whole hours when large, a few significant digits when small.
export function formatHours(h: number): string {
  const opts: Intl.NumberFormatOptions =
    h === 0 ? {} : Math.abs(h) >= 100 ? { maximumFractionDigits: 0 } : Math.abs(h) >= 1
      ? { maximumFractionDigits: 1 }
      : { maximumSignificantDigits: 2 };
  return new Intl.NumberFormat(locale(), opts).format(h);
}

export function formatPercent(f: number): string {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(f);
}

// Names for the ids the API answers with, looked up once per page load. Where the caller may
// not read the object, the id itself is shown: it is what the API gave.
type Kind = 'user' | 'project' | 'dataset' | 'org';
const names = new Map<string, Promise<string>>();

function lookup(kind: Kind, id: string): Promise<string> {
  const key = `${kind}:${id}`;
  let p = names.get(key);
  if (!p) {
    p = (
      kind === 'user'
        ? opsApi.user(id).then((u) => u.username)
        : kind === 'project'
          ? opsApi.project(id).then((x) => x.name)
          : kind === 'org'
            ? opsApi.org(id).then((o) => o.display_name || o.name)
          : reviewApi.dataset(id).then((d) => d.title || d.name)
    ).catch(() => id);
    names.set(key, p);
  }
  return p;
}

export function useName(kind: Kind, id: string | null | undefined): string {
  const [name, setName] = useState(id ?? '');
  useEffect(() => {
    if (!id) return;
    let live = true;
    setName(id);
    void lookup(kind, id).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [kind, id]);
  return name;
}

// A name, with the id for the record where it differs.
export function Named({ kind, id }: { kind: Kind; id: string | null | undefined }) {
  const name = useName(kind, id);
  if (!id) return null;
  return name === id ? <span class="mono">{id}</span> : <span title={id}>{name}</span>;
}

// A report the API answers in one piece, as a table: its failure (with a retry), that it loads,
// that it has no rows, or its rows under their column heads.
export function ReportTable<T>({
  report,
  rows,
  none,
  caption,
  head,
  children,
}: {
  report: Loaded<T>;
  rows: number;
  none: Key;
  caption: string;
  head: ComponentChildren;
  children: ComponentChildren;
}) {
  if (report.error) return <ProblemNotice error={report.error} retry={report.reload} />;
  if (!report.value) return <Loading text="ops.loading" />;
  if (rows === 0) return <p role="status">{t(none)}</p>;
  return (
    <div class="table-scroll">
      <table class="data">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

// A page for people signed in, opened by someone who is not: its title, why, and the way to sign
// in and come back to `next`.
export function SignInFirst({ title, text, next }: { title: Key; text: Key; next: string }) {
  return (
    <>
      <h1>{t(title)}</h1>
      <div class="notice notice-error" role="alert">
        <p class="notice-summary">{t(text)}</p>
        <p>
          <a href={`/signin?next=${encodeURIComponent(next)}`}>{t('auth.signin')}</a>
        </p>
      </div>
    </>
  );
}

export function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={id} class="ops-section">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
