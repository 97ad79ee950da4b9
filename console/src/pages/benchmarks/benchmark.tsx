// One benchmark: what it asks (its description, rendered safely), its phases as a timeline with
// the current one marked, its metrics with their definitions and which one ranks, its rules, the
// leaderboard, and, for a signed-in person, the submit form and their submissions.
import { useState } from 'preact/hooks';
import { Fact } from '../../components/fact';
import { Loading } from '../../components/loading';
import { Markdown } from '../../components/markdown';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePage } from '../../components/usePage';
import { formatBytes, formatNumber, t } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';
import { bench, currentPhase, phaseState, primaryMetric, type Benchmark } from './api';
import { phaseWhen, taskLabel, Time, visibilityLabel, VisibilityBadge } from './format';
import { LeaderboardSection } from './leaderboard';
import { Participate } from './participate';

export function BenchmarkPage({ id, location }: { id: string; location: Location }) {
  const b = useApi((signal) => bench.get(id, signal), [id]);
  usePage(b.value ? b.value.title || b.value.name : b.error ? t('error.title') : null);
  if (b.error) {
    return (
      <>
        <h1>{t('error.title')}</h1>
        <ProblemNotice error={b.error} retry={b.reload} />
        <p>
          <a href="/benchmarks">{t('bench.back')}</a>
        </p>
      </>
    );
  }
  if (!b.value) return <Loading text="bench.loading" />;
  return <BenchmarkView b={b.value} location={location} />;
}

function BenchmarkView({ b, location }: { b: Benchmark; location: Location }) {
  const session = useSession();
  const [now] = useState(() => Date.now());
  // Bumped when one of the person's submissions is scored or leaves: the leaderboard reads again.
  const [changes, setChanges] = useState(0);
  const here = location.query.toString() ? `${location.path}?${location.query}` : location.path;
  return (
    <article class="bench">
      <p class="bench-crumbs">
        <a href="/benchmarks">{t('bench.back')}</a>
      </p>
      <h1>{b.title || b.name}</h1>
      <dl class="facts">
        <Fact label="bench.fact.name" mono>
          {b.name}
        </Fact>
        <Fact label="bench.fact.task">{taskLabel(b.task_type)}</Fact>
        <div>
          <dt>{t('bench.fact.visibility')}</dt>
          <dd>
            <VisibilityBadge visibility={b.visibility} /> {visibilityLabel(b.visibility)}
          </dd>
        </div>
        <Fact label="bench.fact.split">
          {t('bench.fact.split.value', { percent: formatNumber(Math.round(b.public_fraction * 1000) / 10) })}
        </Fact>
        <div>
          <dt>{t('bench.fact.updated')}</dt>
          <dd>
            <Time iso={b.updated_at} />
          </dd>
        </div>
      </dl>
      <section aria-labelledby="bench-about">
        <h2 id="bench-about">{t('bench.about')}</h2>
        {b.description.trim() ? <Markdown source={b.description} /> : <p>{t('bench.about.none')}</p>}
      </section>
      <Phases b={b} now={now} />
      <Metrics b={b} />
      <Rules b={b} />
      <LeaderboardSection b={b} location={location} now={now} changes={changes} />
      {session.known &&
        (session.me ? (
          <Participate b={b} me={session.me} now={now} onChange={() => setChanges((c) => c + 1)} />
        ) : (
          <section aria-labelledby="bench-take-part">
            <h2 id="bench-take-part">{t('bench.part.title')}</h2>
            <p>
              {t('bench.part.signin')}{' '}
              <a href={`/signin?next=${encodeURIComponent(here)}`}>{t('auth.signin')}</a>
            </p>
          </section>
        ))}
    </article>
  );
}

function Phases({ b, now }: { b: Benchmark; now: number }) {
  const current = currentPhase(b, now);
  return (
    <section aria-labelledby="bench-phases">
      <h2 id="bench-phases">{t('bench.phases')}</h2>
      {b.phases.length === 0 ? (
        <p>{t('bench.phases.none')}</p>
      ) : (
        <ol class="bench-timeline">
          {b.phases.map((p) => {
            const state = phaseState(p, now);
            const isCurrent = current?.id === p.id;
            return (
              <li
                key={p.id}
                class={`bench-phase bench-phase-${state}${isCurrent ? ' bench-phase-current' : ''}`}
                aria-current={isCurrent ? 'step' : undefined}
              >
                <h3>
                  {p.name}
                  {isCurrent && <span class="bench-current"> {t('bench.phases.current')}</span>}
                </h3>
                <p>
                  <Time iso={p.starts_at} /> – <Time iso={p.ends_at} />
                </p>
                <p class="muted">{phaseWhen(p, now)}</p>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

function Metrics({ b }: { b: Benchmark }) {
  const primary = primaryMetric(b);
  return (
    <section aria-labelledby="bench-metrics">
      <h2 id="bench-metrics">{t('bench.metrics')}</h2>
      <div class="table-scroll">
        <table class="data bench-metrics">
          <caption class="visually-hidden">{t('bench.metrics')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('bench.metrics.name')}</th>
              <th scope="col">{t('bench.metrics.definition')}</th>
              <th scope="col">{t('bench.metrics.better')}</th>
              <th scope="col">{t('bench.metrics.ranks')}</th>
            </tr>
          </thead>
          <tbody>
            {b.metrics.map((m) => (
              <tr key={m.name}>
                <th scope="row" class="mono">
                  {m.name}
                </th>
                <td>{m.definition}</td>
                <td>{m.higher_is_better ? t('bench.metrics.higher') : t('bench.metrics.lower')}</td>
                <td>{primary?.name === m.name ? t('bench.metrics.primary') : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Rules({ b }: { b: Benchmark }) {
  const primary = primaryMetric(b);
  return (
    <section aria-labelledby="bench-rules">
      <h2 id="bench-rules">{t('bench.rules')}</h2>
      <dl class="facts">
        <Fact label="bench.rules.perDay">{formatNumber(b.rules.max_per_day)}</Fact>
        <Fact label="bench.rules.total">{formatNumber(b.rules.max_total)}</Fact>
        <Fact label="bench.rules.maxBytes">{formatBytes(b.rules.max_bytes)}</Fact>
        <Fact label="bench.rules.counts">
          {b.rules.counts === 'best'
            ? t('bench.rules.counts.best', { metric: primary?.name ?? '' })
            : t('bench.rules.counts.last')}
        </Fact>
      </dl>
      <p class="muted">{t('bench.rules.note')}</p>
    </section>
  );
}
