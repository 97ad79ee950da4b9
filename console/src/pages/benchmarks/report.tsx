// A signed validation report, for anyone holding its address (no sign-in): the customer a
// startup shows it to reads what was scored (the benchmark, the phase, the submission's digest,
// the dataset versions), the results with their definitions and split, when it was scored and
// issued and by which centre, the key it is signed with, and how to check the file offline with
// `openlab report verify`. The page shows what the report says; the file and the key prove it.
import { Loading } from '../../components/loading';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePage } from '../../components/usePage';
import { t } from '../../i18n';
import {
  bench,
  benchLinks,
  type Report,
  type ReportEnvelope,
  type ReportStatement,
} from './api';
import { formatScore, Time } from './format';

export function ReportPage({ id }: { id: string }) {
  const report = useApi((signal) => bench.report(id, signal), [id]);
  usePage(report.value ? t('bench.report.title') : report.error ? t('error.title') : null);
  if (report.error) {
    return (
      <>
        <h1>{t('error.title')}</h1>
        <ProblemNotice error={report.error} retry={report.reload} kinds={{ 'not-found': 'bench.report.notFound' }} />
      </>
    );
  }
  if (!report.value) return <Loading text="bench.report.loading" />;
  return <ReportView r={report.value} />;
}

const roleKeys = {
  participant_inputs: 'bench.report.role.inputs',
  ground_truth: 'bench.report.role.truth',
} as const;

const splitKeys = {
  public: 'bench.report.split.public',
  private: 'bench.report.split.private',
  all: 'bench.report.split.all',
} as const;

function ReportView({ r }: { r: Report }) {
  const statement = r.statement as unknown as ReportStatement;
  const envelope = r.envelope as unknown as ReportEnvelope;
  const p = statement.predicate;
  const subject = statement.subject[0];
  const keyids = envelope.signatures.map((s) => s.keyid);
  const file = `${r.id}.json`;
  const command = `openlab report verify ${file} --key openlab-report-key.json`;
  return (
    <article class="bench-report">
      <h1>{t('bench.report.title')}</h1>
      <p class="lead">
        {t('bench.report.lead', { benchmark: p.benchmark.title, centre: p.centre.name || p.centre.url })}
      </p>
      <dl class="facts">
        <div>
          <dt>{t('bench.report.benchmark')}</dt>
          <dd>
            <a href={`/benchmarks/${encodeURIComponent(p.benchmark.id)}`}>{p.benchmark.title}</a>{' '}
            <span class="mono muted">({p.benchmark.id})</span>
          </dd>
        </div>
        <div>
          <dt>{t('bench.report.phase')}</dt>
          <dd>
            {p.phase.name} <span class="mono muted">({p.phase.id})</span>
          </dd>
        </div>
        <div>
          <dt>{t('bench.report.scored')}</dt>
          <dd>
            <Time iso={p.scoredAt} />
          </dd>
        </div>
        <div>
          <dt>{t('bench.report.issued')}</dt>
          <dd>
            <Time iso={p.issuedAt} />
          </dd>
        </div>
        <div>
          <dt>{t('bench.report.centre')}</dt>
          <dd>
            {p.centre.name}
            {p.centre.url && (
              <>
                {' '}
                <span class="mono muted">({p.centre.url})</span>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>{t('bench.report.version')}</dt>
          <dd class="mono">openlab {p.openlabVersion}</dd>
        </div>
      </dl>

      <section aria-labelledby="report-subject">
        <h2 id="report-subject">{t('bench.report.subject')}</h2>
        <p>{t('bench.report.subject.text')}</p>
        {subject && (
          <dl class="facts bench-report-digest">
            <div>
              <dt>{t('bench.report.subject.name')}</dt>
              <dd class="mono">{subject.name}</dd>
            </div>
            <div>
              <dt>{t('bench.report.subject.digest')}</dt>
              <dd class="mono bench-digest">sha256:{subject.digest.sha256}</dd>
            </div>
          </dl>
        )}
        <p class="muted">{t('bench.report.subject.check')}</p>
      </section>

      <section aria-labelledby="report-results">
        <h2 id="report-results">{t('bench.report.results')}</h2>
        <div class="table-scroll">
          <table class="data bench-report-metrics">
            <caption class="visually-hidden">{t('bench.report.results')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('bench.metrics.name')}</th>
                <th scope="col" class="num">
                  {t('bench.report.value')}
                </th>
                <th scope="col">{t('bench.report.split')}</th>
                <th scope="col">{t('bench.metrics.better')}</th>
                <th scope="col">{t('bench.metrics.definition')}</th>
              </tr>
            </thead>
            <tbody>
              {p.metrics.map((m) => (
                <tr key={`${m.name}-${m.split}`}>
                  <th scope="row" class="mono">
                    {m.name}
                  </th>
                  <td class="num" title={String(m.value)}>
                    {formatScore(m.value)}
                  </td>
                  <td>{m.split in splitKeys ? t(splitKeys[m.split as keyof typeof splitKeys]) : m.split}</td>
                  <td>{m.direction === 'lower_is_better' ? t('bench.metrics.lower') : t('bench.metrics.higher')}</td>
                  <td>{m.definition}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted">{t('bench.report.splitNote')}</p>
      </section>

      <section aria-labelledby="report-datasets">
        <h2 id="report-datasets">{t('bench.report.datasets')}</h2>
        <ul class="bench-report-datasets">
          {p.datasets.map((d) => (
            <li key={`${d.role}-${d.name}`}>
              <strong>{d.role in roleKeys ? t(roleKeys[d.role as keyof typeof roleKeys]) : d.role}</strong>:{' '}
              <span class="mono">{d.name}</span>,{' '}
              {t('bench.report.datasetVersion')} <span class="mono bench-digest">sha256:{d.digest.sha256}</span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="report-verify">
        <h2 id="report-verify">{t('bench.report.verify')}</h2>
        <p>{t('bench.report.verify.text')}</p>
        <dl class="facts">
          <div>
            <dt>{t('bench.report.keyid')}</dt>
            <dd class="mono">{keyids.join(', ')}</dd>
          </div>
          <div>
            <dt>{t('bench.report.sha256')}</dt>
            <dd class="mono bench-digest">sha256:{r.sha256}</dd>
          </div>
          <div>
            <dt>{t('bench.report.id')}</dt>
            <dd class="mono">{r.id}</dd>
          </div>
        </dl>
        <ol class="bench-steps">
          <li>
            <a href={benchLinks.envelope(r.id)} download={file}>
              {t('bench.report.download')}
            </a>{' '}
            <span class="muted">({file})</span>
          </li>
          <li>
            <a href={benchLinks.key} download="openlab-report-key.json">
              {t('bench.report.downloadKey')}
            </a>{' '}
            <span class="muted">{t('bench.report.keyNote')}</span>
          </li>
          <li>
            {t('bench.report.run')}
            <pre class="bench-command">
              <code>{command}</code>
            </pre>
          </li>
        </ol>
        <p>{t('bench.report.verify.ok')}</p>
        <p class="muted">
          {t('bench.report.verify.more')} <span class="mono">docs/validation-reports.md</span>
        </p>
      </section>
    </article>
  );
}
