// A benchmark's leaderboard: the phase, the split (public, or private once the phase has ended;
// organisers may read it at any time, and the server says who is one) and the ranking metric,
// all kept in the address (?phase=&split=&metric=&offset=) so a ranking can be shared and
// reloaded; equal scores share a rank and say so; paged by the API's offsets; a CSV download.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { formatNumber, t } from '../../i18n';
import { navigate, type Location } from '../../router';
import {
  bench,
  benchLinks,
  currentPhase,
  phaseState,
  primaryMetric,
  type Benchmark,
  type Leaderboard,
  type Phase,
} from './api';
import { formatScore, formatTime, Time } from './format';

const pageSize = 50;

interface Choice {
  phase: string;
  split: 'public' | 'private';
  metric: string;
}

function boardUrl(location: Location, c: Choice, offset: number): string {
  const q = new URLSearchParams(location.query);
  q.set('phase', c.phase);
  q.set('split', c.split);
  q.set('metric', c.metric);
  if (offset > 0) q.set('offset', String(offset));
  else q.delete('offset');
  return `${location.path}?${q}`;
}

export function LeaderboardSection({
  b,
  location,
  now,
  changes,
}: {
  b: Benchmark;
  location: Location;
  now: number;
  changes: number;
}) {
  const q = location.query;
  const fallback = currentPhase(b, now);
  const phase: Phase | undefined =
    b.phases.find((p) => p.name === q.get('phase') || p.id === q.get('phase')) ?? fallback;
  const metric = (b.metrics.find((m) => m.name === q.get('metric')) ?? primaryMetric(b))?.name ?? '';
  const split = q.get('split') === 'private' ? 'private' : 'public';
  const offset = Math.max(0, Math.floor(Number(q.get('offset') ?? 0)) || 0);
  const shown: Choice = { phase: phase?.name ?? '', split, metric };

  // The form's choices, applied with its button (the address changes then).
  const [form, setForm] = useState<Choice>(shown);
  useEffect(() => setForm(shown), [shown.phase, shown.split, shown.metric]);
  const formPhase = b.phases.find((p) => p.name === form.phase) ?? phase;
  const privateAccess = usePrivateAccess(b, formPhase, now);
  const formSplit = form.split === 'private' && privateAccess.open ? 'private' : 'public';

  const board = useApi(
    (signal) =>
      phase
        ? bench.leaderboard(b.id, { phase: phase.name, split, metric, offset, limit: pageSize }, signal)
        : Promise.resolve(null),
    [b.id, phase?.id, split, metric, offset, changes],
  );

  function apply(e: Event) {
    e.preventDefault();
    navigate(boardUrl(location, { ...form, split: formSplit }, 0));
  }

  if (!phase) return null;
  return (
    <section aria-labelledby="bench-board" aria-busy={board.loading}>
      <h2 id="bench-board">
        {t('bench.board')}
      </h2>
      <form class="filters bench-board-form" onSubmit={apply} aria-label={t('bench.board.choose')}>
        <div class="field">
          <label for="board-phase">{t('bench.board.phase')}</label>
          <select
            id="board-phase"
            value={form.phase}
            onChange={(e) => setForm({ ...form, phase: e.currentTarget.value })}
          >
            {b.phases.map((p) => (
              <option key={p.id} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="toggle">
          <legend>{t('bench.board.split')}</legend>
          <label>
            <input
              type="radio"
              name="board-split"
              value="public"
              checked={formSplit === 'public'}
              onChange={() => setForm({ ...form, split: 'public' })}
            />
            {t('bench.board.split.public')}
          </label>
          <label>
            <input
              type="radio"
              name="board-split"
              value="private"
              checked={formSplit === 'private'}
              disabled={!privateAccess.open}
              aria-describedby={privateAccess.open ? undefined : 'board-private-why'}
              onChange={() => setForm({ ...form, split: 'private' })}
            />
            {t('bench.board.split.private')}
          </label>
          {!privateAccess.open && formPhase && (
            <p id="board-private-why" class="hint bench-private-why">
              {privateAccess.checking
                ? t('bench.board.private.checking')
                : t('bench.board.private.closed', { time: formatTime(formPhase.ends_at) })}
            </p>
          )}
        </fieldset>
        <div class="field">
          <label for="board-metric">{t('bench.board.metric')}</label>
          <select
            id="board-metric"
            value={form.metric}
            onChange={(e) => setForm({ ...form, metric: e.currentTarget.value })}
          >
            {b.metrics.map((m) => (
              <option key={m.name} value={m.name}>
                {m.primary ? t('bench.board.metric.primary', { metric: m.name }) : m.name}
              </option>
            ))}
          </select>
        </div>
        <div class="actions">
          <button type="submit">{t('bench.board.show')}</button>
        </div>
      </form>
      {board.error ? (
        <ProblemNotice
          error={board.error}
          retry={board.reload}
          kinds={{ forbidden: split === 'private' ? 'bench.board.private.forbidden' : 'error.forbidden' }}
        />
      ) : board.value ? (
        <Ranking b={b} board={board.value} location={location} choice={shown} />
      ) : (
        <p class="muted" role="status">
          {t('bench.board.loading')}
        </p>
      )}
    </section>
  );
}

// Whether this visitor may read the phase's private ranking: anyone once it has ended; before,
// organisers only, which the server answers (403 for the others).
function usePrivateAccess(b: Benchmark, phase: Phase | undefined, now: number) {
  const ended = !!phase && phaseState(phase, now) === 'ended';
  const probe = useApi(
    (signal) =>
      !phase || ended
        ? Promise.resolve(ended)
        : bench
            .leaderboard(b.id, { phase: phase.name, split: 'private', metric: '', offset: 0, limit: 1 }, signal)
            .then(
              () => true,
              (e: unknown) => {
                if (e instanceof ApiError && (e.status === 403 || e.status === 401)) return false;
                throw e;
              },
            ),
    [b.id, phase?.id, ended],
  );
  return { open: probe.value === true, checking: probe.loading };
}

function Ranking({
  b,
  board,
  location,
  choice,
}: {
  b: Benchmark;
  board: Leaderboard;
  location: Location;
  choice: Choice;
}) {
  const items = board.items;
  const first = board.offset + 1;
  const last = board.offset + items.length;
  const better = board.higher_is_better ? t('bench.metrics.higher') : t('bench.metrics.lower');
  const caption = t(board.split === 'private' ? 'bench.board.caption.private' : 'bench.board.caption.public', {
    phase: board.phase,
    metric: board.metric,
    better,
  });
  const tied = (i: number) => {
    const r = items[i]?.rank;
    return items[i - 1]?.rank === r || items[i + 1]?.rank === r;
  };
  const prev = Math.max(0, board.offset - pageSize);
  return (
    <>
      <p class="results-status" role="status">
        {board.total === 0
          ? t('bench.board.none')
          : t('bench.board.count', { first: formatNumber(first), last: formatNumber(last), total: formatNumber(board.total) })}
      </p>
      {items.length > 0 && (
        <div class="table-scroll">
          <table class="data bench-ranking">
            <caption>{caption}</caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  {t('bench.board.rank')}
                </th>
                <th scope="col">{t('bench.board.entrant')}</th>
                <th scope="col" class="num">
                  {t('bench.board.score', { metric: board.metric })}
                </th>
                {b.metrics
                  .filter((m) => m.name !== board.metric)
                  .map((m) => (
                    <th key={m.name} scope="col" class="num mono">
                      {m.name}
                    </th>
                  ))}
                <th scope="col">{t('bench.board.submitted')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r, i) => (
                <tr key={r.entrant}>
                  <td class="num">
                    {formatNumber(r.rank)}
                    {tied(i) && <span class="bench-tie"> {t('bench.board.tie')}</span>}
                  </td>
                  <th scope="row">{r.name}</th>
                  <td class="num">{formatScore(r.score)}</td>
                  {b.metrics
                    .filter((m) => m.name !== board.metric)
                    .map((m) => (
                      <td key={m.name} class="num">
                        {formatScore(r.scores[m.name])}
                      </td>
                    ))}
                  <td>
                    <Time iso={r.submitted_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(board.offset > 0 || board.next_offset !== null) && (
        <nav class="bench-pages" aria-label={t('bench.board.pages')}>
          {board.offset > 0 && <a href={boardUrl(location, choice, prev)}>{t('bench.board.prev')}</a>}
          {board.next_offset !== null && (
            <a href={boardUrl(location, choice, board.next_offset)}>{t('bench.board.next')}</a>
          )}
        </nav>
      )}
      {board.total > 0 && (
        <p>
          <a
            class="button-secondary"
            href={benchLinks.csv(b.id, { phase: board.phase, split: board.split, metric: board.metric })}
            download={`${b.name}-${board.phase}-${board.split}.csv`}
          >
            {t('bench.board.csv')}
          </a>
        </p>
      )}
    </>
  );
}
