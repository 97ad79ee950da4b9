// API tokens: the person's own, newest last as the API lists them; a new one with a name, scopes
// chosen from those the person holds, and a lifetime, its secret shown once with a copy button;
// revoking one (asked twice).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me, NewToken, Token } from '../../api/client';
import { ProblemNotice } from '../../components/problem';
import { usePage } from '../../components/usePage';
import { useSubmit } from '../../components/useSubmit';
import { t } from '../../i18n';
import { ws } from './api';
import { ListEnd } from './common';
import { formatTime } from './format';
import { usePaged } from '../../components/usePaged';

// The scopes a token may carry (src/auth/authn.h, kScopes). A cookie session holds '*' (all of
// them), and the API lists them nowhere else, so the console names them to offer them.
const knownScopes = [
  'projects:read',
  'projects:write',
  'jobs:read',
  'jobs:write',
  'allocations:read',
  'allocations:write',
  'data:read',
  'data:write',
  'validation:read',
  'validation:write',
  'tokens:read',
  'tokens:write',
  'orgs:read',
  'orgs:write',
  'users:read',
  'users:write',
  'ops:read',
  'audit:read',
  'metrics:read',
  '*',
];

// What the person may hand on: their own scopes, or every scope where they hold '*'.
export function grantable(scopes: string[]): string[] {
  return scopes.includes('*') ? knownScopes : scopes;
}

export function TokensPage({ me }: { me: Me }) {
  usePage(t('ws.tokens.title'));
  const list = usePaged(ws.tokens, []);
  const [created, setCreated] = useState<NewToken | null>(null);
  return (
    <>
      <h1>{t('ws.tokens.title')}</h1>
      <p class="lead">{t('ws.tokens.intro')}</p>
      {created && <Secret token={created} onClose={() => setCreated(null)} />}
      <CreateToken
        scopes={grantable(me.scopes)}
        onCreated={(tok) => {
          setCreated(tok);
          const shown: Token = { ...tok };
          delete (shown as Partial<NewToken>).secret;
          list.update((items) => [...items, shown]);
        }}
      />
      <section aria-labelledby="tokens-list">
        <h2 id="tokens-list">{t('ws.tokens.list')}</h2>
        {list.items.length > 0 && (
          <table class="ws-table">
            <thead>
              <tr>
                <th scope="col">{t('ws.tokens.name')}</th>
                <th scope="col">{t('ws.tokens.scopes')}</th>
                <th scope="col">{t('ws.tokens.created')}</th>
                <th scope="col">{t('ws.tokens.expires')}</th>
                <th scope="col">{t('ws.tokens.state')}</th>
                <th scope="col">
                  <span class="ws-sr">{t('ws.job.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((tok) => (
                <tr key={tok.id} data-token={tok.id}>
                  <td>{tok.name}</td>
                  <td class="mono">{tok.scopes.join(' ')}</td>
                  <td>
                    <time dateTime={tok.created_at}>{formatTime(tok.created_at)}</time>
                  </td>
                  <td>{tok.expires_at ? <time dateTime={tok.expires_at}>{formatTime(tok.expires_at)}</time> : t('ws.tokens.never')}</td>
                  <td>{stateOf(tok)}</td>
                  <td>
                    {!tok.revoked_at && (
                      <Revoke
                        token={tok}
                        onDone={() =>
                          list.update((items) =>
                            items.map((x) => (x.id === tok.id ? { ...x, revoked_at: new Date().toISOString() } : x)),
                          )
                        }
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ListEnd list={list} empty="ws.tokens.none" more="ws.tokens.more" />
      </section>
    </>
  );
}

function stateOf(tok: Token): string {
  if (tok.revoked_at) return t('ws.tokens.revoked', { at: formatTime(tok.revoked_at) });
  if (tok.expires_at && Date.parse(tok.expires_at) <= Date.now()) return t('ws.tokens.expired');
  return t('ws.tokens.active');
}

function CreateToken({ scopes, onCreated }: { scopes: string[]; onCreated: (t: NewToken) => void }) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [days, setDays] = useState(90);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [noScope, setNoScope] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    if (chosen.length === 0) {
      setNoScope(true);
      return;
    }
    setNoScope(false);
    setBusy(true);
    try {
      const tok = await ws.createToken({ name: name.trim(), scopes: chosen, expires_in_days: days });
      onCreated(tok);
      setName('');
      setChosen([]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const toggle = (s: string, on: boolean) => setChosen((c) => (on ? [...c, s] : c.filter((x) => x !== s)));
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="token-new">
      <h2 id="token-new">{t('ws.tokens.new')}</h2>
      <div class="field">
        <label for="token-name">{t('ws.tokens.name')}</label>
        <input id="token-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <fieldset class="ws-fieldset" aria-describedby="token-scopes-hint">
        <legend>{t('ws.tokens.scopes')}</legend>
        <p id="token-scopes-hint" class="hint">
          {t('ws.tokens.scopes.hint')}
        </p>
        <div class="ws-scopes">
          {scopes.map((s) => (
            <label key={s} class="ws-check">
              <input type="checkbox" checked={chosen.includes(s)} onChange={(e) => toggle(s, e.currentTarget.checked)} />{' '}
              <span class="mono">{s}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {noScope && (
        <p class="notice notice-error" role="alert">
          {t('ws.tokens.scopes.none')}
        </p>
      )}
      <div class="field">
        <label for="token-days">{t('ws.tokens.days')}</label>
        <input id="token-days" type="number" required min={1} max={3650} value={days}
          onInput={(e) => setDays(Number(e.currentTarget.value))} />
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.working') : t('ws.tokens.create')}
        </button>
      </div>
    </form>
  );
}

function Secret({ token, onClose }: { token: NewToken; onClose: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Shown above the form: the keyboard and the screen reader are taken to it.
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView({ block: 'nearest' });
  }, [token.id]);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(token.secret);
      setCopied('yes');
    } catch {
      // The clipboard refused (no permission, not a secure context): the secret is selected for
      // the person to copy themselves.
      field.current?.select();
      setCopied('no');
    }
  }
  return (
    <section class="notice notice-ok ws-secret" aria-labelledby="token-secret">
      <h2 id="token-secret" ref={heading} tabIndex={-1}>
        {t('ws.tokens.secret.title', { name: token.name })}
      </h2>
      <p>{t('ws.tokens.secret.once')}</p>
      <div class="ws-secret-row">
        <label for="token-secret-value" class="ws-sr">
          {t('ws.tokens.secret.label')}
        </label>
        <input id="token-secret-value" ref={field} class="mono" readOnly value={token.secret} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          {t('ws.tokens.copy')}
        </button>
      </div>
      <p role="status">{copied === 'yes' ? t('ws.tokens.copied') : copied === 'no' ? t('ws.tokens.copy.failed') : ''}</p>
      <button type="button" class="button-secondary" onClick={onClose}>
        {t('ws.tokens.secret.done')}
      </button>
    </section>
  );
}

function Revoke({ token, onDone }: { token: Token; onDone: () => void }) {
  const [asking, setAsking] = useState(false);
  const { busy, error, submit: revoke } = useSubmit(() => ws.revokeToken(token.id), onDone);
  return (
    <div class="ws-cancel">
      {!asking ? (
        <button type="button" class="button-secondary" onClick={() => setAsking(true)} aria-label={t('ws.tokens.revoke.label', { name: token.name })}>
          {t('ws.tokens.revoke')}
        </button>
      ) : (
        <span class="actions">
          <span>{t('ws.tokens.revoke.sure', { name: token.name })}</span>
          <button type="button" disabled={busy} onClick={() => void revoke()}>
            {busy ? t('common.working') : t('ws.tokens.revoke.yes')}
          </button>
          <button type="button" class="button-secondary" onClick={() => setAsking(false)}>
            {t('common.cancel')}
          </button>
        </span>
      )}
      {error ? <ProblemNotice error={error} /> : null}
    </div>
  );
}
