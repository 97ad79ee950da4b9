// What both submit forms (a predictions file, code) ask last: the phase, among the open ones, and
// a description of the submission. `idPrefix` keeps the two forms' element ids apart on one page.
import { t } from '../../i18n';
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
