// The benchmarks the visitor may see (public ones to anyone; more once signed in), paged by the
// API's cursors: each with its task type, visibility, and the current phase and when it ends.
import { ProblemNotice } from '../../components/problem';
import { usePage } from '../../components/usePage';
import { usePaged } from '../../components/usePaged';
import { t } from '../../i18n';
import { bench, currentPhase, type Benchmark } from './api';
import { phaseWhen, taskLabel, VisibilityBadge } from './format';

export function BenchmarkList() {
  usePage(t('bench.list.title'));
  const list = usePaged<Benchmark>(bench.list, []);
  const { items, loading, error } = list;
  const now = Date.now();
  return (
    <>
      <h1>{t('bench.list.title')}</h1>
      <p class="lead">{t('bench.list.intro')}</p>
      <section aria-labelledby="bench-results" aria-busy={loading}>
        <p id="bench-results" class="results-status" role="status">
          {loading && !list.loaded
            ? t('bench.list.loading')
            : items.length === 0 && !error
              ? t('bench.list.none')
              : list.more
                ? t('bench.list.count.more', { count: items.length })
                : t('bench.list.count', { count: items.length })}
        </p>
        {items.length > 0 && (
          <ul class="dataset-list bench-list">
            {items.map((b) => {
              const phase = currentPhase(b, now);
              return (
                <li key={b.id} class="dataset-item">
                  <h2 class="dataset-item-title">
                    <a href={`/benchmarks/${encodeURIComponent(b.name)}`}>{b.title || b.name}</a>
                  </h2>
                  <p class="dataset-item-meta">
                    <span class="mono">{b.name}</span>
                    <span aria-hidden="true"> · </span>
                    <span>{taskLabel(b.task_type)}</span>
                    <span aria-hidden="true"> · </span>
                    <VisibilityBadge visibility={b.visibility} />
                  </p>
                  {phase && (
                    <p class="bench-item-phase">
                      {t('bench.list.phase', { phase: phase.name, when: phaseWhen(phase, now) })}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {error ? <ProblemNotice error={error} retry={list.retry} /> : null}
        {list.more && !error && (
          <button type="button" class="button-secondary" disabled={loading} onClick={list.loadMore}>
            {loading ? t('bench.list.loading') : t('bench.list.more')}
          </button>
        )}
      </section>
    </>
  );
}
