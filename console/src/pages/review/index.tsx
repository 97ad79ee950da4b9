// The data stewards' review queue (/review): the access requests, contributions, personal-data
// flags and export requests waiting for the signed-in steward (the PI and co-PIs of a dataset's
// project, its organisation's admins), from GET /review/queue. Each says what is asked, by whom,
// when and why; the steward decides with a reason, and the item leaves the queue with a
// confirmation in words.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { useApi } from '../../components/useApi';
import { usePage } from '../../components/usePage';
import { formatBytes, formatNumber, t, type Key } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';
import { reviewApi } from '../ops/api';
import type { AccessRequest, Contribution, ExportRequest, FileFlag } from '../../api/client';
import { Named, SignInFirst, useName, When } from '../ops/common';
import { Fact } from '../../components/fact';
import { Loading } from '../../components/loading';

type Done = (message: string) => void;

// The queue answers at most this many of each kind (it has no cursor): a full list says so.
const queueLimit = 200;

export function ReviewPage({ location }: { location: Location }) {
  const session = useSession();
  usePage(session.known ? t('review.title') : null);
  if (!session.known) {
    return (
      <Loading text="ops.loading" />
    );
  }
  if (!session.me) {
    return <SignInFirst title="review.title" text="review.signin" next={location.path} />;
  }
  return <Queue location={location} />;
}

// One item opened by its address (/review?access_request=ID, ?contribution=ID, ?export=ID), as a
// link in a message would: shown above the queue, to be decided the same way.
function useLinked(location: Location) {
  const q = location.query;
  const kind = q.get('access_request') ? 'access' : q.get('contribution') ? 'contribution' : q.get('export') ? 'export' : null;
  const id = q.get('access_request') ?? q.get('contribution') ?? q.get('export') ?? '';
  const item = useApi(
    (signal): Promise<AccessRequest | Contribution | ExportRequest | null> =>
      kind === 'access'
        ? reviewApi.accessRequest(id, signal)
        : kind === 'contribution'
          ? reviewApi.contribution(id, signal)
          : kind === 'export'
            ? reviewApi.exportRequest(id, signal)
            : Promise.resolve(null),
    [kind, id],
  );
  return { kind, id, item };
}

function Queue({ location }: { location: Location }) {
  const queue = useApi((signal) => reviewApi.queue(signal), []);
  const linked = useLinked(location);
  const [gone, setGone] = useState<Set<string>>(new Set());
  const [done, setDone] = useState<string[]>([]);
  const notice = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (done.length) notice.current?.focus();
  }, [done.length]);
  const decided = (id: string) => (message: string) => {
    setGone((g) => new Set(g).add(id));
    setDone((d) => [message, ...d]);
  };
  const q = queue.value;
  // The item opened by its address is shown once, above the queue.
  const left = <T extends { id: string }>(items: T[] | undefined) =>
    (items ?? []).filter((i) => !gone.has(i.id) && i.id !== linked.id);
  const access = left(q?.access_requests);
  const contributions = left(q?.contributions);
  const flags = left(q?.flags);
  const exports = left(q?.exports);
  const total = access.length + contributions.length + flags.length + exports.length;
  return (
    <div class="review">
      <h1>{t('review.title')}</h1>
      <p class="lead">{t('review.intro')}</p>
      <div ref={notice} tabIndex={-1} role="status" class={done.length ? 'notice notice-ok' : 'visually-hidden'}>
        {done.map((m, i) => (
          <p key={`${i}-${m}`}>{m}</p>
        ))}
      </div>
      {linked.kind && (
        <section aria-labelledby="review-linked" class="ops-section">
          <h2 id="review-linked">{t('review.linked.title')}</h2>
          {linked.item.error ? (
            <ProblemNotice error={linked.item.error} retry={linked.item.reload} />
          ) : !linked.item.value ? (
            <Loading text="ops.loading" />
          ) : gone.has(linked.id) ? (
            <p>{t('review.linked.decided')}</p>
          ) : linked.item.value.state !== 'pending' && linked.item.value.state !== 'submitted' ? (
            <p>{t('review.linked.state', { state: linked.item.value.state })}</p>
          ) : (
            <ul class="review-list">
              {linked.kind === 'access' ? (
                <AccessItem r={linked.item.value as AccessRequest} onDone={decided(linked.id)} />
              ) : linked.kind === 'contribution' ? (
                <ContributionItem c={linked.item.value as Contribution} onDone={decided(linked.id)} />
              ) : (
                <ExportItem e={linked.item.value as ExportRequest} onDone={decided(linked.id)} />
              )}
            </ul>
          )}
        </section>
      )}
      {queue.error ? (
        <ProblemNotice error={queue.error} retry={queue.reload} />
      ) : !q ? (
        <Loading text="ops.loading" />
      ) : (
        <>
          <p class="results-status">
            {total === 0 ? t('review.empty') : t('review.waiting', { count: total })}
          </p>
          <ReviewSection id="review-access" title="review.access.title" empty="review.access.none" count={access.length} full={(q.access_requests?.length ?? 0) >= queueLimit}>
            {access.map((r) => (
              <AccessItem key={r.id} r={r} onDone={decided(r.id)} />
            ))}
          </ReviewSection>
          <ReviewSection
            id="review-contributions"
            title="review.contrib.title"
            empty="review.contrib.none"
            count={contributions.length}
            full={(q.contributions?.length ?? 0) >= queueLimit}
          >
            {contributions.map((c) => (
              <ContributionItem key={c.id} c={c} onDone={decided(c.id)} />
            ))}
          </ReviewSection>
          <ReviewSection id="review-flags" title="review.flag.title" empty="review.flag.none" count={flags.length} full={(q.flags?.length ?? 0) >= queueLimit}>
            {flags.map((f) => (
              <FlagItem key={f.id} f={f} onDone={decided(f.id)} />
            ))}
          </ReviewSection>
          <ReviewSection id="review-exports" title="review.export.title" empty="review.export.none" count={exports.length} full={(q.exports?.length ?? 0) >= queueLimit}>
            {exports.map((e) => (
              <ExportItem key={e.id} e={e} onDone={decided(e.id)} />
            ))}
          </ReviewSection>
        </>
      )}
    </div>
  );
}

function ReviewSection({
  id,
  title,
  empty,
  count,
  full,
  children,
}: {
  id: string;
  title: Key;
  empty: Key;
  count: number;
  full?: boolean;
  children: ComponentChildren;
}) {
  return (
    <section aria-labelledby={id} class="ops-section">
      <h2 id={id}>
        {t(title)} <span class="count">({formatNumber(count)})</span>
      </h2>
      {count === 0 ? <p>{t(empty)}</p> : <ul class="review-list">{children}</ul>}
      {full && <p class="muted">{t('review.full', { count: queueLimit })}</p>}
    </section>
  );
}

// Who asked, and when.
function Asked({ by, at, label = 'review.by' }: { by: string; at: string; label?: Key }) {
  return (
    <>
      <Fact label={label}>
        <Named kind="user" id={by} />
      </Fact>
      <Fact label="review.when">
        <When iso={at} />
      </Fact>
    </>
  );
}

function DatasetFact({ id, name, label = 'review.dataset' }: { id: string; name: string; label?: Key }) {
  return (
    <Fact label={label}>
      <a href={`/datasets/${encodeURIComponent(id)}`}>{name}</a>
    </Fact>
  );
}

// The decision: a reason, and a button for each way to decide. A decision that needs a reason
// says so before anything is sent; the server's refusal is shown in words.
interface Choice {
  label: Key;
  needsReason: boolean;
  secondary?: boolean;
  act: (reason: string) => Promise<unknown>;
  done: string;  // what is said once it is done
}

function Decide({ id, reasonLabel, choices, onDone }: { id: string; reasonLabel: Key; choices: Choice[]; onDone: Done }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  async function decide(c: Choice) {
    setError(null);
    if (c.needsReason && !reason.trim()) {
      setMissing(true);
      document.getElementById(`${id}-reason`)?.focus();
      return;
    }
    setMissing(false);
    setBusy(true);
    try {
      await c.act(reason.trim());
      onDone(c.done);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <div class="decide">
      <div class="field">
        <label for={`${id}-reason`}>{t(reasonLabel)}</label>
        <textarea
          id={`${id}-reason`}
          rows={2}
          maxLength={2000}
          value={reason}
          aria-invalid={missing || undefined}
          aria-describedby={missing ? `${id}-missing` : undefined}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        {missing && (
          <p id={`${id}-missing`} class="field-error">
            {t('review.reason.missing')}
          </p>
        )}
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      <div class="actions">
        {choices.map((c) => (
          <button
            key={c.label}
            type="button"
            class={c.secondary ? 'button-secondary' : undefined}
            disabled={busy}
            onClick={() => void decide(c)}
          >
            {t(c.label)}
          </button>
        ))}
      </div>
    </div>
  );
}

function AccessItem({ r, onDone }: { r: AccessRequest; onDone: Done }) {
  const dataset = useName('dataset', r.dataset_id);
  const who = useName('user', r.user_id);
  const hid = `access-${r.id}`;
  return (
    <li class="review-item">
      <article aria-labelledby={hid}>
        <h3 id={hid}>{t('review.access.asks', { dataset })}</h3>
        <dl class="facts">
          <Asked by={r.user_id} at={r.created_at} />
          <Fact label="review.access.days">{t('review.access.daysValue', { days: r.days })}</Fact>
          {r.project_id && (
            <Fact label="review.access.project">
              <Named kind="project" id={r.project_id} />
            </Fact>
          )}
          {/* The requester is always among the analysts: the others are named. */}
          {r.analysts.some((u) => u !== r.user_id) && (
            <Fact label="review.access.analysts">{r.analysts.filter((u) => u !== r.user_id).join(', ')}</Fact>
          )}
          <DatasetFact id={r.dataset_id} name={dataset} />
        </dl>
        <p class="purpose">
          <strong>{t('review.access.purpose')}</strong> {r.purpose}
        </p>
        <Decide
          id={hid}
          reasonLabel="review.reason"
          onDone={onDone}
          choices={[
            {
              label: 'review.approve',
              needsReason: false,
              act: (reason) => reviewApi.approveAccess(r.id, reason),
              done: t('review.access.approved', { who, dataset }),
            },
            {
              label: 'review.refuse',
              needsReason: true,
              secondary: true,
              act: (reason) => reviewApi.refuseAccess(r.id, reason),
              done: t('review.access.refused', { who, dataset }),
            },
          ]}
        />
      </article>
    </li>
  );
}

function ContributionItem({ c, onDone }: { c: Contribution; onDone: Done }) {
  const dataset = useName('dataset', c.dataset_id);
  const who = useName('user', c.user_id);
  const [open, setOpen] = useState(false);
  const hid = `contrib-${c.id}`;
  return (
    <li class="review-item">
      <article aria-labelledby={hid}>
        <h3 id={hid}>{t('review.contrib.asks', { title: c.title, dataset })}</h3>
        <dl class="facts">
          <Asked by={c.user_id} at={c.created_at} />
          <DatasetFact id={c.dataset_id} name={dataset} />
          {c.base_version && (
            <Fact label="review.contrib.base">
              <span class="mono">{c.base_version.slice(0, 12)}</span>
            </Fact>
          )}
        </dl>
        {c.description && (
          <p class="purpose">
            <strong>{t('review.contrib.description')}</strong> {c.description}
          </p>
        )}
        <p>
          <button type="button" class="button-secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? t('review.contrib.hideDiff') : t('review.contrib.showDiff')}
          </button>
        </p>
        {open && <ContributionDiff id={c.id} />}
        <Decide
          id={hid}
          reasonLabel="review.contrib.reason"
          onDone={onDone}
          choices={[
            {
              label: 'review.accept',
              needsReason: false,
              act: (text) => reviewApi.acceptContribution(c.id, text),
              done: t('review.contrib.accepted', { title: c.title, who, dataset }),
            },
            {
              label: 'review.reject',
              needsReason: true,
              secondary: true,
              act: (text) => reviewApi.rejectContribution(c.id, text),
              done: t('review.contrib.rejected', { title: c.title, who, dataset }),
            },
          ]}
        />
      </article>
    </li>
  );
}

function ContributionDiff({ id }: { id: string }) {
  const full = useApi((signal) => reviewApi.contribution(id, signal), [id]);
  if (full.error) return <ProblemNotice error={full.error} retry={full.reload} />;
  if (!full.value) {
    return (
      <Loading text="ops.loading" />
    );
  }
  const { diff, files } = full.value;
  if (!diff) {
    return <p>{files ? t('review.contrib.filesOnly', { count: files.length }) : t('review.contrib.noDiff')}</p>;
  }
  return (
    <div class="diff">
      <p>
        {t('review.contrib.summary', {
          added: diff.added.length,
          replaced: diff.replaced.length,
          unchanged: diff.unchanged,
        })}
      </p>
      {diff.added.length + diff.replaced.length > 0 && (
        <table class="data">
          <caption class="visually-hidden">{t('review.contrib.diff')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('review.contrib.change')}</th>
              <th scope="col">{t('dataset.files.path')}</th>
              <th scope="col" class="num">
                {t('dataset.files.size')}
              </th>
            </tr>
          </thead>
          <tbody>
            {diff.added.map((f) => (
              <tr key={`a-${f.path}`} class="diff-added">
                <td>{t('review.contrib.added')}</td>
                <td class="mono">{f.path}</td>
                <td class="num">{formatBytes(f.size)}</td>
              </tr>
            ))}
            {diff.replaced.map((f) => (
              <tr key={`r-${f.path}`} class="diff-replaced">
                <td>{t('review.contrib.replaced')}</td>
                <td class="mono">{f.path}</td>
                <td class="num">
                  {formatBytes(f.size_from)} → {formatBytes(f.size_to)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function FlagItem({ f, onDone }: { f: FileFlag; onDone: Done }) {
  const dataset = useName('dataset', f.dataset_id);
  const hid = `flag-${f.id}`;
  return (
    <li class="review-item">
      <article aria-labelledby={hid}>
        <h3 id={hid}>{t('review.flag.asks', { path: f.path, dataset })}</h3>
        <dl class="facts">
          <Asked by={f.flagged_by} at={f.created_at} label="review.flag.by" />
          <DatasetFact id={f.dataset_id} name={dataset} />
          <Fact label="review.flag.sha">
            <span class="mono">{f.sha256.slice(0, 16)}</span>
          </Fact>
        </dl>
        <p class="purpose">
          <strong>{t('review.flag.reason')}</strong> {f.reason}
        </p>
        <Decide
          id={hid}
          reasonLabel="review.reason.required"
          onDone={onDone}
          choices={[
            {
              label: 'review.flag.confirm',
              needsReason: true,
              act: (reason) => reviewApi.decideFlag(f.id, 'confirm', reason),
              done: t('review.flag.confirmed', { path: f.path, dataset }),
            },
            {
              label: 'review.flag.clear',
              needsReason: true,
              secondary: true,
              act: (reason) => reviewApi.decideFlag(f.id, 'clear', reason),
              done: t('review.flag.cleared', { path: f.path, dataset }),
            },
          ]}
        />
      </article>
    </li>
  );
}

function ExportItem({ e, onDone }: { e: ExportRequest; onDone: Done }) {
  const dataset = useName('dataset', e.dataset_id);
  const who = useName('user', e.user_id);
  const hid = `export-${e.id}`;
  const bytes = e.files.reduce((n, f) => n + f.size, 0);
  return (
    <li class="review-item">
      <article aria-labelledby={hid}>
        <h3 id={hid}>{t('review.export.asks', { count: e.files.length, job: e.job_id })}</h3>
        <dl class="facts">
          <Asked by={e.user_id} at={e.created_at} />
          <Fact label="review.export.project">
            <Named kind="project" id={e.project_id} />
          </Fact>
          <DatasetFact id={e.dataset_id} name={dataset} label="review.export.data" />
        </dl>
        <p class="purpose">
          <strong>{t('review.export.purpose')}</strong> {e.purpose}
        </p>
        <table class="data">
          <caption>{t('review.export.files', { count: e.files.length, bytes: formatBytes(bytes) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('dataset.files.path')}</th>
              <th scope="col" class="num">
                {t('dataset.files.size')}
              </th>
            </tr>
          </thead>
          <tbody>
            {e.files.map((f) => (
              <tr key={f.path}>
                <td class="mono">
                  <a
                    href={`/api/v1/exports/${encodeURIComponent(e.id)}/file?path=${encodeURIComponent(f.path)}`}
                    download={f.path.split('/').pop()}
                    aria-label={t('dataset.files.download', { path: f.path })}
                  >
                    {f.path}
                  </a>
                </td>
                <td class="num">{formatBytes(f.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Decide
          id={hid}
          reasonLabel="review.reason"
          onDone={onDone}
          choices={[
            {
              label: 'review.approve',
              needsReason: false,
              act: (reason) => reviewApi.approveExport(e.id, reason),
              done: t('review.export.approved', { count: e.files.length, who }),
            },
            {
              label: 'review.refuse',
              needsReason: true,
              secondary: true,
              act: (reason) => reviewApi.refuseExport(e.id, reason),
              done: t('review.export.refused', { count: e.files.length, who }),
            },
          ]}
        />
      </article>
    </li>
  );
}
