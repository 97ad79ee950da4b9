// The audit trail, newest first, filtered by actor (a username or a user id), action, object and
// period, the filters kept in the address so a search can be shared; paged by the API's cursor,
// and exported as JSON lines with the same filters.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { t } from '../../i18n';
import { navigate } from '../../router';
import { auditExportLink, opsApi } from './api';
import { ListFooter, Named, Section, When } from './common';
import { usePaged } from '../../components/usePaged';
import type { SectionProps } from './index';

const pageSize = 50;
const fields = ['actor', 'action', 'object', 'since', 'until'] as const;
type Filters = Record<(typeof fields)[number], string>;

// The actor as the audit trail records it: a user id. A username is looked up; a value that
// names no user (an id of a removed user, "anonymous") is searched for as it is.
async function actorId(actor: string, signal: AbortSignal): Promise<string> {
  if (!actor) return '';
  try {
    return (await opsApi.user(actor, signal)).id;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return actor;
    throw e;
  }
}

// <input type="datetime-local"> gives local time without a zone; the API takes RFC 3339 UTC.
function toUtc(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function Audit({ location }: SectionProps) {
  const current: Filters = {
    actor: location.query.get('actor') ?? '',
    action: location.query.get('action') ?? '',
    object: location.query.get('object') ?? '',
    since: location.query.get('since') ?? '',
    until: location.query.get('until') ?? '',
  };
  const [form, setForm] = useState<Filters>(current);
  const key = fields.map((f) => current[f]).join('\u0000');
  useEffect(() => setForm(current), [key]);
  const [resolvedActor, setResolvedActor] = useState('');

  const list = usePaged(async (cursor, signal) => {
    const actor = await actorId(current.actor.trim(), signal);
    setResolvedActor(actor);
    return opsApi.audit(
      {
        actor: actor || undefined,
        action: current.action.trim() || undefined,
        object: current.object.trim() || undefined,
        since: toUtc(current.since),
        until: toUtc(current.until),
        order: 'newest',
        limit: pageSize,
        cursor,
      },
      signal,
    );
  }, [key]);

  function search(e: Event) {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (form[f].trim()) q.set(f, form[f].trim());
    const s = q.toString();
    navigate(s ? `/ops/audit?${s}` : '/ops/audit');
  }
  const exportHref = auditExportLink({
    actor: resolvedActor || current.actor.trim() || undefined,
    action: current.action.trim() || undefined,
    object: current.object.trim() || undefined,
    since: toUtc(current.since),
    until: toUtc(current.until),
    order: 'newest',
  });
  const set = (f: keyof Filters) => (e: Event) =>
    setForm((prev) => ({ ...prev, [f]: (e.currentTarget as HTMLInputElement).value }));
  const filtered = fields.some((f) => current[f]);
  return (
    <>
      <p class="lead">{t('ops.audit.intro')}</p>
      <form role="search" class="filters" onSubmit={search} aria-label={t('ops.audit.filters')}>
        <div class="field">
          <label for="audit-actor">{t('ops.audit.actor')}</label>
          <input id="audit-actor" value={form.actor} aria-describedby="audit-actor-hint" onInput={set('actor')} />
          <p id="audit-actor-hint" class="hint">{t('ops.audit.actor.hint')}</p>
        </div>
        <div class="field">
          <label for="audit-action">{t('ops.audit.action')}</label>
          <input id="audit-action" value={form.action} aria-describedby="audit-action-hint" onInput={set('action')} />
          <p id="audit-action-hint" class="hint">{t('ops.audit.action.hint')}</p>
        </div>
        <div class="field">
          <label for="audit-object">{t('ops.audit.object')}</label>
          <input id="audit-object" value={form.object} onInput={set('object')} />
        </div>
        <div class="field">
          <label for="audit-since">{t('ops.audit.since')}</label>
          <input id="audit-since" type="datetime-local" value={form.since} onInput={set('since')} />
        </div>
        <div class="field">
          <label for="audit-until">{t('ops.audit.until')}</label>
          <input id="audit-until" type="datetime-local" value={form.until} onInput={set('until')} />
        </div>
        <div class="actions">
          <button type="submit">{t('ops.audit.search')}</button>
          {filtered && (
            <a class="button-secondary" href="/ops/audit">
              {t('ops.audit.clear')}
            </a>
          )}
          <a class="button-secondary" href={exportHref} download="audit.jsonl">
            {t('ops.audit.export')}
          </a>
        </div>
        <p class="hint">{t('ops.audit.export.hint')}</p>
      </form>
      <Section id="audit-entries" title={t('ops.audit.entries')}>
        <div aria-busy={list.loading}>
          {list.items.length > 0 && (
            <div class="table-scroll">
              <table class="data audit">
                <caption class="visually-hidden">{t('ops.audit.entries')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('ops.audit.at')}</th>
                    <th scope="col">{t('ops.audit.actor')}</th>
                    <th scope="col">{t('ops.audit.action')}</th>
                    <th scope="col">{t('ops.audit.object')}</th>
                    <th scope="col">{t('ops.audit.outcome')}</th>
                    <th scope="col">{t('ops.audit.detail')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <When iso={a.at} />
                      </td>
                      <td>{a.actor === 'anonymous' || !a.actor ? a.actor : <Named kind="user" id={a.actor} />}</td>
                      <td class="mono">{a.action}</td>
                      <td class="mono">{a.object}</td>
                      <td>{a.outcome === 'ok' ? t('ops.audit.ok') : a.outcome}</td>
                      <td class="detail">{a.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <ListFooter list={list} empty={filtered ? 'ops.audit.none.filtered' : 'ops.audit.none'} more="ops.audit.more" />
        </div>
      </Section>
    </>
  );
}
