// What both submit forms (a predictions file, code) share: the phase, among the open ones, and a
// description of the submission, which they ask last (`idPrefix` keeps the two forms' element ids
// apart on one page); and their foot: the refusal in words, the send button, what was sent.
import type { ComponentChildren } from 'preact';
import { ProblemNotice } from '../../components/problem';
import { t, type Key } from '../../i18n';
import type { Phase } from './api';
import { formatTime } from './format';

export function PhaseAndDescription({
  idPrefix,
  open,
  phase,
  onPhase,
  description,
  onDescription,
}: {
  idPrefix: string;
  open: Phase[];
  phase: string;
  onPhase: (name: string) => void;
  description: string;
  onDescription: (text: string) => void;
}) {
  return (
    <>
      <div class="field">
        <label for={`${idPrefix}-phase`}>{t('bench.submit.phase')}</label>
        <select id={`${idPrefix}-phase`} value={phase} onChange={(e) => onPhase(e.currentTarget.value)}>
          {open.map((p) => (
            <option key={p.id} value={p.name}>
              {t('bench.submit.phase.option', { phase: p.name, time: formatTime(p.ends_at) })}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for={`${idPrefix}-description`}>{t('bench.submit.description')}</label>
        <input
          id={`${idPrefix}-description`}
          maxLength={500}
          value={description}
          aria-describedby={`${idPrefix}-description-hint`}
          onInput={(e) => onDescription(e.currentTarget.value)}
        />
        <p id={`${idPrefix}-description-hint`} class="hint">
          {t('bench.submit.description.hint')}
        </p>
      </div>
    </>
  );
}

export function SubmitFoot({
  error,
  tooLarge,
  busy,
  send,
  done,
}: {
  error: unknown;
  tooLarge: Key; // what a body over the benchmark's max_bytes is told
  busy: boolean;
  send: string;
  done: ComponentChildren | null; // what was sent, once it was
}) {
  return (
    <>
      {error ? (
        <ProblemNotice
          error={error}
          kinds={{
            'resource-exhausted': 'bench.submit.error.quota',
            conflict: 'bench.submit.error.closed',
            forbidden: 'bench.submit.error.forbidden',
            'payload-too-large': tooLarge,
          }}
        />
      ) : null}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('bench.submit.sending') : send}
        </button>
      </div>
      <div role="status" class="bench-submitted">
        {done ? <p class="notice notice-ok">{done}</p> : null}
      </div>
    </>
  );
}
