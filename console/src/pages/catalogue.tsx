// The data catalogue: full-text search (?q=) and a domain or tag filter (?tag=), both kept in the
// address so a search can be shared, paged by the API's next_cursor ("show more").
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client';
import type { Dataset } from '../api/models';
import { DatasetList } from '../components/datasetList';
import { ProblemNotice } from '../components/problem';
import { usePage } from '../components/usePage';
import { t } from '../i18n';
import { navigate, type Location } from '../router';

const pageSize = 25;

export function Catalogue({ location }: { location: Location }) {
  usePage(t('catalogue.title'));
  const q = location.query.get('q') ?? '';
  const tag = location.query.get('tag') ?? '';
  const [text, setText] = useState(q);
  const [tagText, setTagText] = useState(tag);
  const [items, setItems] = useState<Dataset[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const controller = useRef<AbortController | null>(null);

  function load(after: string | null) {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    setError(null);
    api
      .listDatasets({ q: q || undefined, tag: tag || undefined, limit: pageSize, cursor: after ?? undefined }, c.signal)
      .then(
        (page) => {
          if (c.signal.aborted) return;
          setItems((prev) => (after ? [...prev, ...page.items] : page.items));
          setCursor(page.next_cursor);
          setLoading(false);
        },
        (e: unknown) => {
          if (c.signal.aborted) return;
          setError(e);
          setLoading(false);
        },
      );
  }

  useEffect(() => {
    setText(q);
    setTagText(tag);
    setItems([]);
    setCursor(null);
    load(null);
    return () => controller.current?.abort();
  }, [q, tag]);

  function search(e: Event) {
    e.preventDefault();
    const params = new URLSearchParams();
    if (text.trim()) params.set('q', text.trim());
    if (tagText.trim()) params.set('tag', tagText.trim());
    const s = params.toString();
    navigate(s ? `/datasets?${s}` : '/datasets');
  }

  const filtered = q !== '' || tag !== '';
  return (
    <>
      <h1>{t('catalogue.title')}</h1>
      <p class="lead">{t('catalogue.intro')}</p>
      <form role="search" class="search" onSubmit={search}>
        <div class="field">
          <label for="q">{t('catalogue.search')}</label>
          <input
            id="q"
            name="q"
            type="search"
            value={text}
            maxLength={200}
            aria-describedby="q-hint"
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <p id="q-hint" class="hint">
            {t('catalogue.search.hint')}
          </p>
        </div>
        <div class="field">
          <label for="tag">{t('catalogue.tag')}</label>
          <input
            id="tag"
            name="tag"
            type="text"
            value={tagText}
            maxLength={40}
            aria-describedby="tag-hint"
            onInput={(e) => setTagText(e.currentTarget.value)}
          />
          <p id="tag-hint" class="hint">
            {t('catalogue.tag.hint')}
          </p>
        </div>
        <div class="actions">
          <button type="submit">{t('catalogue.submit')}</button>
          {filtered && (
            <a class="button-secondary" href="/datasets">
              {t('catalogue.clear')}
            </a>
          )}
        </div>
      </form>
      <section aria-labelledby="results-status" aria-busy={loading}>
        <p id="results-status" class="results-status" role="status">
          {loading && items.length === 0
            ? t('catalogue.loading')
            : items.length === 0 && !error
              ? t('catalogue.none')
              : cursor
                ? t('catalogue.results.more', { count: items.length })
                : t('catalogue.results', { count: items.length })}
        </p>
        {items.length > 0 && <DatasetList items={items} />}
        {error ? <ProblemNotice error={error} retry={() => load(items.length ? cursor : null)} /> : null}
        {cursor && !error && (
          <button type="button" class="button-secondary" disabled={loading} onClick={() => load(cursor)}>
            {loading ? t('catalogue.loading') : t('catalogue.more')}
          </button>
        )}
      </section>
    </>
  );
}
