// Taking part, for a signed-in person: the submit form (a predictions file, the phase, a
// description; a refused file's first bad line told next to the field; what the quota leaves)
// and their submissions (their own and their team's) with each one's state, its history, its
// scores, cancelling one that waits, and a scored one's signed reports (those issued, each a
// link to its page, and issuing another). Where the benchmark takes code, a second form sends a
// folder of code and its command (codeForm.tsx). Submissions not yet ended are read again each
// second until they end.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Me } from '../../api/client';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePaged, type PagedList } from '../../components/usePaged';
import { formatBytes, formatNumber, t } from '../../i18n';
import { CodeForm } from './codeForm';
import { PhaseAndDescription, SubmitFoot } from './submitFields';
import {
  bench,
  phaseState,
  submissionEnded,
  type Benchmark,
  type Phase,
  type Report,
  type ReportSummary,
  type Submission,
} from './api';
import { formatScore, formatTime, StateBadge, stateLabel, Time } from './format';

const pollMs = 1000;

export function Participate({
  b,
  me,
  now,
  onChange,
}: {
  b: Benchmark;
  me: Me;
  now: number;
  onChange: () => void;
}) {
  const teams = useApi((signal) => bench.teams(b.id, signal), [b.id]);
  const team = teams.value?.items.find((tm) => tm.members.includes(me.id));
  const list = usePaged<Submission>((cursor, signal) => bench.submissions(b.id, cursor, signal), [b.id]);
  // Organisers are answered every submission: "mine" are the person's own and their team's.
  const mine = list.items
    .filter((s) => s.user_id === me.id || (team !== undefined && s.team_id === team.id))
    .sort((x, y) => (x.created_at < y.created_at ? 1 : x.created_at > y.created_at ? -1 : 0));
  const waiting = mine.some((s) => !submissionEnded(s.state));

  // Read again while one waits; tell the page when one has ended (the leaderboard may change).
  useEffect(() => {
    if (!waiting || list.loading || list.error) return;
    const timer = window.setTimeout(list.reload, pollMs);
    return () => window.clearTimeout(timer);
  }, [waiting, list.loading, list.error, list.items]);
  const seen = useRef(new Map<string, string>());
  useEffect(() => {
    let changed = false;
    for (const s of mine) {
      const before = seen.current.get(s.id);
      if (before !== undefined && before !== s.state && submissionEnded(s.state)) changed = true;
      seen.current.set(s.id, s.state);
    }
    if (changed) onChange();
  }, [list.items]);

  const open = b.phases.filter((p) => phaseState(p, now) === 'open');
  return (
    <section aria-labelledby="bench-take-part" class="bench-part">
      <h2 id="bench-take-part">{t('bench.part.title')}</h2>
      {teams.value && (
        <p>{team ? t('bench.part.team', { team: team.name }) : t('bench.part.alone')}</p>
      )}
      {teams.error ? <ProblemNotice error={teams.error} retry={teams.reload} /> : null}
      {open.length === 0 ? (
        <p>{t('bench.submit.noPhase')}</p>
      ) : (
        <SubmitForm
          b={b}
          open={open}
          mine={mine}
          loaded={list.loaded}
          onSubmitted={(s) => list.update((items) => [s, ...items.filter((x) => x.id !== s.id)])}
        />
      )}
      {b.rules.code && open.length > 0 ? (
        <CodeForm
          b={b}
          open={open}
          onSubmitted={(s) => list.update((items) => [s, ...items.filter((x) => x.id !== s.id)])}
        />
      ) : null}
      <MySubmissions b={b} mine={mine} list={list} />
    </section>
  );
}

type PredictionsFormat = 'csv' | 'jsonl' | 'json';

// A JSON document (not lines) is taken by a detection task (COCO results) and a custom one.
function takesJson(b: Benchmark): boolean {
  return b.task_type === 'detection' || b.task_type === 'custom';
}

function formatOf(name: string, b: Benchmark): PredictionsFormat {
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  if (/\.json$/i.test(name) && takesJson(b)) return 'json';
  return 'csv';
}

function SubmitForm({
  b,
  open,
  mine,
  loaded,
  onSubmitted,
}: {
  b: Benchmark;
  open: Phase[];
  mine: Submission[];
  loaded: boolean;
  onSubmitted: (s: Submission) => void;
}) {
  const [phase, setPhase] = useState((open[0] as Phase).name);
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<PredictionsFormat>('csv');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Submission | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const chosen = open.find((p) => p.name === phase) ?? (open[0] as Phase);

  // The quota of the entrant on the chosen phase, from their submissions: counted ones today
  // (UTC) and in all.
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const counted = mine.filter((s) => s.phase_id === chosen.id && s.counted);
  const today = counted.filter((s) => Date.parse(s.created_at) >= midnight.getTime()).length;

  function choose(f: File | null) {
    setFile(f);
    setFileError(null);
    setDone(null);
    if (!f) return;
    setFormat(formatOf(f.name, b));
    if (f.size > b.rules.max_bytes) {
      setFileError(t('bench.submit.tooLarge', { size: formatBytes(f.size), max: formatBytes(b.rules.max_bytes) }));
    }
  }

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (!file) {
      setFileError(t('bench.submit.file.missing'));
      return;
    }
    if (file.size > b.rules.max_bytes) return;
    setFileError(null);
    setBusy(true);
    try {
      const s = await bench.submit(b.id, file, format, chosen.name, description.trim());
      setDone(s);
      setFile(null);
      setDescription('');
      if (input.current) input.current.value = '';
      onSubmitted(s);
    } catch (err) {
      // A file that does not fit is told next to its field: the server names its first bad line.
      if (err instanceof ApiError && err.status === 400 && err.problem.detail) {
        setFileError(t('bench.submit.refused', { detail: err.problem.detail }));
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  const describedBy = ['bench-file-hint', fileError ? 'bench-file-error' : ''].filter(Boolean).join(' ');
  return (
    <form class="panel bench-submit" onSubmit={submit} aria-labelledby="bench-submit-title" noValidate>
      <h3 id="bench-submit-title">{t('bench.submit.title')}</h3>
      <div class="field">
        <label for="bench-file">{t('bench.submit.file')}</label>
        <input
          id="bench-file"
          ref={input}
          type="file"
          accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson"
          aria-describedby={describedBy}
          aria-invalid={fileError ? true : undefined}
          onChange={(e) => choose(e.currentTarget.files?.[0] ?? null)}
        />
        <p id="bench-file-hint" class="hint">
          {t(`bench.submit.file.hint.${b.task_type}` as const)}{' '}
          {t('bench.submit.file.max', { max: formatBytes(b.rules.max_bytes) })}
        </p>
        {fileError && (
          <p id="bench-file-error" class="field-error" role="alert">
            {fileError}
          </p>
        )}
      </div>
      <fieldset class="toggle">
        <legend>{t('bench.submit.format')}</legend>
        <label>
          <input type="radio" name="bench-format" checked={format === 'csv'} onChange={() => setFormat('csv')} />
          {t('bench.submit.format.csv')}
        </label>
        <label>
          <input type="radio" name="bench-format" checked={format === 'jsonl'} onChange={() => setFormat('jsonl')} />
          {t('bench.submit.format.jsonl')}
        </label>
        {takesJson(b) && (
          <label>
            <input type="radio" name="bench-format" checked={format === 'json'} onChange={() => setFormat('json')} />
            {t('bench.submit.format.json')}
          </label>
        )}
      </fieldset>
      <PhaseAndDescription
        idPrefix="bench"
        open={open}
        phase={chosen.name}
        onPhase={setPhase}
        description={description}
        onDescription={setDescription}
      />
      <p class="bench-quota" data-figure="quota">
        {loaded
          ? t('bench.submit.quota', {
              today: formatNumber(today),
              perDay: formatNumber(b.rules.max_per_day),
              total: formatNumber(counted.length),
              max: formatNumber(b.rules.max_total),
            })
          : t('bench.submit.quota.loading')}
      </p>
      <p class="hint">{t('bench.submit.quota.hint')}</p>
      <SubmitFoot
        error={error}
        tooLarge="bench.submit.error.tooLarge"
        busy={busy}
        send={t('bench.submit.send')}
        done={done ? t('bench.submit.done', { state: stateLabel(done.state), rows: formatNumber(done.rows) }) : null}
      />
    </form>
  );
}

function MySubmissions({
  b,
  mine,
  list,
}: {
  b: Benchmark;
  mine: Submission[];
  list: PagedList<Submission>;
}) {
  return (
    <section aria-labelledby="bench-mine">
      <h3 id="bench-mine">{t('bench.subs.title')}</h3>
      {list.error ? <ProblemNotice error={list.error} retry={list.retry} /> : null}
      {!list.loaded && !list.error ? (
        <p class="muted" role="status">
          {t('bench.subs.loading')}
        </p>
      ) : null}
      {list.loaded && mine.length === 0 ? <p>{t('bench.subs.none')}</p> : null}
      {mine.length > 0 && (
        <ul class="bench-subs">
          {mine.map((s) => (
            <SubmissionItem
              key={s.id}
              b={b}
              s={s}
              onChanged={(n) => list.update((items) => items.map((x) => (x.id === n.id ? n : x)))}
            />
          ))}
        </ul>
      )}
      {list.loaded && list.more && !list.error ? (
        <p>
          <button type="button" class="button-secondary" disabled={list.loading} onClick={list.loadMore}>
            {list.loading ? t('bench.subs.loading') : t('bench.subs.more')}
          </button>
        </p>
      ) : null}
    </section>
  );
}

function SubmissionItem({
  b,
  s,
  onChanged,
}: {
  b: Benchmark;
  s: Submission;
  onChanged: (s: Submission) => void;
}) {
  const phase = b.phases.find((p) => p.id === s.phase_id);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [historyOpen, setHistoryOpen] = useState(false);
  const title = s.description || t('bench.subs.untitled', { time: formatTime(s.created_at) });
  const headingId = `sub-${s.id}`;

  async function act(f: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const cancel = () => act(async () => onChanged(await bench.cancel(s.id)));
  const [issued, setIssued] = useState(0);
  const issue = () =>
    act(async () => {
      setReport(await bench.issueReport(s.id));
      setIssued((n) => n + 1);
    });

  return (
    <li class="bench-sub" aria-labelledby={headingId} data-submission={s.id}>
      <h4 id={headingId}>{title}</h4>
      <p class="bench-sub-state">
        <StateBadge state={s.state} />
        {!s.counted && s.state !== 'queued' && <span class="muted"> · {t('bench.subs.notCounted')}</span>}
      </p>
      {s.reason && <p class="bench-sub-reason">{t('bench.subs.reason', { reason: s.reason })}</p>}
      <dl class="facts bench-sub-facts">
        <div>
          <dt>{t('bench.subs.submitted')}</dt>
          <dd>
            <Time iso={s.created_at} />
          </dd>
        </div>
        <div>
          <dt>{t('bench.subs.phase')}</dt>
          <dd>{phase?.name ?? s.phase_id}</dd>
        </div>
        <div>
          <dt>{t('bench.subs.file')}</dt>
          <dd>
            {t(s.kind === 'code' ? 'bench.subs.code.value' : 'bench.subs.file.value', {
              rows: formatNumber(s.rows),
              size: formatBytes(s.size),
              format: s.format,
            })}
          </dd>
        </div>
        <div>
          <dt>{t('bench.subs.digest')}</dt>
          <dd class="mono bench-digest">sha256:{s.sha256}</dd>
        </div>
      </dl>
      {s.state === 'scored' && <Scores b={b} s={s} phase={phase} />}
      {s.state === 'scored' && <Reports id={s.id} issued={issued} />}
      <details class="bench-history" onToggle={(e) => setHistoryOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>{t('bench.subs.history')}</summary>
        {historyOpen && <History id={s.id} state={s.state} />}
      </details>
      <div class="actions">
        {!submissionEnded(s.state) && (
          <button type="button" class="button-secondary" disabled={busy} onClick={cancel}
            aria-label={t('bench.subs.cancel.label', { name: title })}>
            {t('bench.subs.cancel')}
          </button>
        )}
        {s.state === 'scored' && (
          <button type="button" class="button-secondary" disabled={busy} onClick={issue}
            aria-label={t('bench.subs.report.label', { name: title })}>
            {busy ? t('common.working') : t('bench.subs.report')}
          </button>
        )}
      </div>
      {error ? (
        <ProblemNotice error={error} kinds={{ conflict: 'bench.subs.error.conflict' }} />
      ) : null}
      <div role="status">
        {report && (
          <p class="notice notice-ok">
            {t('bench.subs.report.done')}{' '}
            <a href={`/reports/${encodeURIComponent(report.id)}`}>{t('bench.subs.report.open')}</a>
          </p>
        )}
      </div>
    </li>
  );
}

// The signed reports issued of a scored submission, oldest first, each a link to its page; read
// again when one more is issued.
function Reports({ id, issued }: { id: string; issued: number }) {
  const list = usePaged<ReportSummary>((cursor, signal) => bench.reports(id, cursor, signal), [id, issued]);
  const items = [...list.items].sort((x, y) => (x.created_at < y.created_at ? -1 : x.created_at > y.created_at ? 1 : 0));
  const headingId = `sub-${id}-reports`;
  return (
    <section class="bench-reports" aria-labelledby={headingId}>
      <h5 id={headingId}>{t('bench.subs.reports')}</h5>
      {list.error ? <ProblemNotice error={list.error} retry={list.retry} /> : null}
      {!list.loaded && !list.error ? (
        <p class="muted" role="status">
          {t('bench.subs.reports.loading')}
        </p>
      ) : null}
      {list.loaded && items.length === 0 ? <p class="muted">{t('bench.subs.reports.none')}</p> : null}
      {items.length > 0 && (
        <ul>
          {items.map((r) => (
            <li key={r.id}>
              <a href={`/reports/${encodeURIComponent(r.id)}`}>
                {t('bench.subs.reports.link', { time: formatTime(r.created_at) })}
              </a>
            </li>
          ))}
        </ul>
      )}
      {list.loaded && list.more && !list.error ? (
        <p>
          <button type="button" class="button-secondary" disabled={list.loading} onClick={list.loadMore}>
            {list.loading ? t('bench.subs.reports.loading') : t('bench.subs.reports.more')}
          </button>
        </p>
      ) : null}
    </section>
  );
}

// The submission's states with their times and notes, read when the person opens them (and again
// when its state changes).
function History({ id, state }: { id: string; state: string }) {
  const sub = useApi((signal) => bench.submission(id, signal), [id, state]);
  if (sub.error) return <ProblemNotice error={sub.error} retry={sub.reload} />;
  if (!sub.value) {
    return (
      <p class="muted" role="status">
        {t('bench.subs.history.loading')}
      </p>
    );
  }
  return (
    <ol>
      {sub.value.events.map((e, i) => (
        <li key={i}>
          <Time iso={e.at} /> · <StateBadge state={e.state} />
          {e.note && <span class="muted"> · {e.note}</span>}
        </li>
      ))}
    </ol>
  );
}

function Scores({ b, s, phase }: { b: Benchmark; s: Submission; phase: Phase | undefined }) {
  const priv = s.scores_private;
  return (
    <div class="table-scroll">
      <table class="data bench-scores">
        <caption>{t('bench.subs.scores')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('bench.metrics.name')}</th>
            <th scope="col" class="num">
              {t('bench.subs.scores.public')}
            </th>
            <th scope="col" class="num">
              {t('bench.subs.scores.private')}
            </th>
          </tr>
        </thead>
        <tbody>
          {b.metrics.map((m) => (
            <tr key={m.name}>
              <th scope="row" class="mono">
                {m.name}
              </th>
              <td class="num">{formatScore(s.scores_public[m.name])}</td>
              <td class="num">
                {priv
                  ? formatScore(priv[m.name])
                  : t('bench.subs.scores.later', { time: phase ? formatTime(phase.ends_at) : '' })}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
