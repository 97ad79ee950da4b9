// Signing in with a password: POST /api/v1/login sets the HttpOnly session cookie and answers the
// CSRF token the console sends with every write.
import { useState } from 'preact/hooks';
import { ProblemNotice } from '../components/problem';
import { usePage } from '../components/usePage';
import { useSubmit } from '../components/useSubmit';
import { t } from '../i18n';
import { navigate, type Location } from '../router';
import { signIn } from '../session';

// Only a path of this console is followed after signing in (never another site).
function nextPath(location: Location): string {
  const next = location.query.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/api/') ? next : '/';
}

export function SignIn({ location }: { location: Location }) {
  usePage(t('auth.title'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(
    () => signIn(username, password),
    () => {
      setPassword('');
      navigate(nextPath(location), { replace: true });
    },
  );

  return (
    <>
      <h1>{t('auth.title')}</h1>
      <p class="lead">{t('auth.intro')}</p>
      <form class="panel narrow" onSubmit={submit}>
        <div class="field">
          <label for="username">{t('auth.username')}</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            required
            maxLength={100}
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="password">{t('auth.password')}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            maxLength={1024}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        {error ? <ProblemNotice error={error} kinds={{ unauthenticated: 'error.login' }} /> : null}
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? t('auth.working') : t('auth.submit')}
          </button>
        </div>
      </form>
    </>
  );
}
