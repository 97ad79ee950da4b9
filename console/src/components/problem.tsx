// An API failure told to the person in plain words: what happened in their language (from the
// problem's type), what the server said (its detail), and a way to try again where that helps.
import { ApiError } from '../api/client';
import { t, type Key } from '../i18n';

const known: Record<string, Key> = {
  network: 'error.network',
  unauthenticated: 'error.unauthenticated',
  forbidden: 'error.forbidden',
  'insufficient-scope': 'error.forbidden',
  csrf: 'error.csrf',
  'not-found': 'error.not-found',
  'invalid-argument': 'error.invalid-argument',
  'invalid-json': 'error.invalid-argument',
  'too-many-login-attempts': 'error.too-many-login-attempts',
  conflict: 'error.conflict',
  'already-exists': 'error.already-exists',
  unavailable: 'error.unavailable',
  'hashing-busy': 'error.unavailable',
};

// `kinds` says, for one place, what a kind of problem means there (a 401 at sign-in is a wrong
// password, not a missing sign-in).
export function explain(
  e: unknown,
  kinds: Record<string, Key> = {},
): { summary: string; detail: string | null } {
  if (e instanceof ApiError) {
    const key = kinds[e.kind] ?? known[e.kind];
    const summary = key ? t(key) : e.status >= 500 ? t('error.server') : e.problem.title;
    const detail = e.problem.detail && e.problem.detail !== summary ? e.problem.detail : null;
    return { summary, detail };
  }
  return { summary: t('error.title'), detail: e instanceof Error ? e.message : String(e) };
}

export function ProblemNotice({
  error,
  retry,
  kinds,
}: {
  error: unknown;
  retry?: () => void;
  kinds?: Record<string, Key>;
}) {
  const { summary, detail } = explain(error, kinds);
  return (
    <div class="notice notice-error" role="alert">
      <p class="notice-summary">{summary}</p>
      {detail && <p class="notice-detail">{t('error.details', { detail })}</p>}
      {retry && (
        <button type="button" class="button-secondary" onClick={retry}>
          {t('error.retry')}
        </button>
      )}
    </div>
  );
}
