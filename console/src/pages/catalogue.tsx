// The data catalogue: full-text search (?q=), a domain or tag (?tag=), an access level
// (?access_level=) and a licence (?license=, typed or chosen among those of the datasets shown),
// combined, each kept in the address so a search can be shared and reloaded, paged by the API's
// next_cursor ("show more").
import { useEffect, useState } from 'preact/hooks';
import { api, type Dataset } from '../api/client';
import { accessLevels, DatasetList } from '../components/datasetList';
import { ProblemNotice } from '../components/problem';
import { usePage } from '../components/usePage';
import { usePaged } from '../components/usePaged';
import { t } from '../i18n';
import { navigate, type Location } from '../router';

const pageSize = 25;

export function Catalogue({ location }: { location: Location }) {
  usePage(t('catalogue.title'));
  const q = location.query.get('q') ?? '';
  const tag = location.query.get('tag') ?? '';
  const level = location.query.get('access_level') ?? '';
  const license = location.query.get('license') ?? '';
  const [text, setText] = useState(q);
  const [tagText, setTagText] = useState(tag);
  const [levelChoice, setLevelChoice] = useState(level);
  const [licenseText, setLicenseText] = useState(license);
  const list = usePaged<Dataset>(
    (cursor, signal) =>
      api.listDatasets(
        {
          q: q || undefined,
          tag: tag || undefined,
          access_level: level || undefined,
          license: license || undefined,
          limit: pageSize,
          cursor,
        },
        signal,
      ),
    [q, tag, level, license],
  );
  const { items, loading, error } = list;

  useEffect(() => {
    setText(q);
    setTagText(tag);
    setLevelChoice(level);
    setLicenseText(license);
  }, [q, tag, level, license]);

  function search(e: Event) {
    e.preventDefault();
    const params = new URLSearchParams();
    if (text.trim()) params.set('q', text.trim());
    if (tagText.trim()) params.set('tag', tagText.trim());
    if (levelChoice) params.set('access_level', levelChoice);
    if (licenseText.trim()) params.set('license', licenseText.trim());
    const s = params.toString();
    navigate(s ? `/datasets?${s}` : '/datasets');
  }

  const filtered = q !== '' || tag !== '' || level !== '' || license !== '';
  // The licences of the datasets shown, offered as the licence field's choices.
  const licenses = [...new Set(items.map((d) => d.license).filter((l) => l !== ''))].sort();
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
        <div class="field">
          <label for="access_level">{t('catalogue.level')}</label>
          <select
            id="access_level"
            name="access_level"
            value={levelChoice}
            onChange={(e) => setLevelChoice(e.currentTarget.value)}
          >
            <option value="">{t('catalogue.level.any')}</option>
            {accessLevels.map((l) => (
              <option key={l} value={l}>
                {t(`access.${l}` as const).split(':')[0]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="license">{t('catalogue.license')}</label>
          <input
            id="license"
            name="license"
            type="text"
            list="licenses-shown"
            value={licenseText}
            maxLength={100}
            autoComplete="off"
            aria-describedby="license-hint"
            onInput={(e) => setLicenseText(e.currentTarget.value)}
          />
          <datalist id="licenses-shown">
            {licenses.map((l) => (
              <option key={l} value={l} />
            ))}
          </datalist>
          <p id="license-hint" class="hint">
            {t('catalogue.license.hint')}
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
              : list.more
                ? t('catalogue.results.more', { count: items.length })
                : t('catalogue.results', { count: items.length })}
        </p>
        {items.length > 0 && <DatasetList items={items} />}
        {error ? <ProblemNotice error={error} retry={list.retry} /> : null}
        {list.more && !error && (
          <button type="button" class="button-secondary" disabled={loading} onClick={list.loadMore}>
            {loading ? t('catalogue.loading') : t('catalogue.more')}
          </button>
        )}
      </section>
    </>
  );
}
