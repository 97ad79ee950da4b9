// The centre's home: its name and description, its figures now (GET /api/v1/centre, read again
// each time the page opens), what it lends, and datasets from its catalogue.
import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import { CentreFigures, refreshCentre, useCentre } from '../components/centre';
import { DatasetList } from '../components/datasetList';
import { ProblemNotice } from '../components/problem';
import { useApi } from '../components/useApi';
import { usePage } from '../components/usePage';
import { t } from '../i18n';

export function Home() {
  const about = useCentre();
  const centre = about.value?.name || t('centre.name');
  usePage(centre);
  useEffect(() => {
    void refreshCentre();
  }, []);
  const recent = useApi((signal) => api.listDatasets({ limit: 5 }, signal), []);
  return (
    <>
      <section class="hero">
        <h1>{t('home.title', { centre })}</h1>
        {about.value?.description && <p class="lead centre-description">{about.value.description}</p>}
        <p class={about.value?.description ? undefined : 'lead'}>{t('home.intro')}</p>
      </section>
      <section aria-labelledby="now" aria-busy={about.loading}>
        <h2 id="now">{t('centre.figures.title')}</h2>
        {about.error ? (
          <ProblemNotice error={about.error} retry={() => void refreshCentre()} />
        ) : about.value ? (
          <CentreFigures figures={about.value.figures} />
        ) : (
          <p class="muted">{t('centre.figures.loading')}</p>
        )}
      </section>
      <section aria-labelledby="lends">
        <h2 id="lends">{t('home.lends')}</h2>
        <ul class="cards">
          <li class="card">
            <h3>{t('home.compute.title')}</h3>
            <p>{t('home.compute.text')}</p>
          </li>
          <li class="card">
            <h3>{t('home.data.title')}</h3>
            <p>{t('home.data.text')}</p>
            <p>
              <a href="/datasets">{t('home.data.link')}</a>
            </p>
          </li>
          <li class="card">
            <h3>{t('bench.home.title')}</h3>
            <p>{t('bench.home.text')}</p>
            <p>
              <a href="/benchmarks">{t('bench.home.link')}</a>
            </p>
          </li>
          <li class="card">
            <h3>{t('home.testbeds.title')}</h3>
            <p>{t('home.testbeds.text')}</p>
          </li>
        </ul>
      </section>
      <section aria-labelledby="recent" aria-busy={recent.loading}>
        <h2 id="recent">{t('home.recent')}</h2>
        {recent.error ? (
          <ProblemNotice error={recent.error} retry={recent.reload} />
        ) : recent.value ? (
          recent.value.items.length === 0 ? (
            <p>{t('home.recent.none')}</p>
          ) : (
            <>
              <DatasetList items={recent.value.items} headingLevel={3} />
              <p>
                <a href="/datasets">{t('home.recent.all')}</a>
              </p>
            </>
          )
        ) : (
          <p class="muted">{t('catalogue.loading')}</p>
        )}
      </section>
    </>
  );
}
