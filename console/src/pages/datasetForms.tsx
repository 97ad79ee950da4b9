// The two things a signed-in person asks of a dataset's stewards: access (for restricted,
// project and consortium data) and a contribution (where the dataset accepts them).
import { useState } from 'preact/hooks';
import { api, type Dataset } from '../api/client';
import { ProblemNotice } from '../components/problem';
import { useApi } from '../components/useApi';
import { useSubmit } from '../components/useSubmit';
import { t, type Key } from '../i18n';

// The answer, once it is sent.
function Sent({ text, onClose }: { text: string; onClose: () => void }) {
  return (
    <div class="notice notice-ok" role="status">
      <p>{text}</p>
      <button type="button" class="button-secondary" onClick={onClose}>
        {t('common.close')}
      </button>
    </div>
  );
}

// A form's end: the failure of its last sending, and its buttons.
function Actions({ busy, error, submit, onClose }: { busy: boolean; error: unknown; submit: Key; onClose: () => void }) {
  return (
    <>
      {error ? <ProblemNotice error={error} /> : null}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.working') : t(submit)}
        </button>
        <button type="button" class="button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </>
  );
}

export function AccessRequestForm({ d, onClose }: { d: Dataset; onClose: () => void }) {
  const [purpose, setPurpose] = useState('');
  const [days, setDays] = useState(90);
  const [project, setProject] = useState('');
  const projects = useApi((signal) => api.listProjects({ limit: 100 }, signal), []);
  const { busy, error, done, submit } = useSubmit(() =>
    api.requestAccess(d.id, { purpose, days, ...(project ? { project_id: project } : {}) }),
  );
  if (done) return <Sent text={t('request.sent')} onClose={onClose} />;
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="request-title">
      <h2 id="request-title">{t('request.title')}</h2>
      <div class="field">
        <label for="purpose">{t('request.purpose')}</label>
        <textarea
          id="purpose"
          required
          minLength={10}
          maxLength={5000}
          rows={4}
          aria-describedby="purpose-hint"
          value={purpose}
          onInput={(e) => setPurpose(e.currentTarget.value)}
        />
        <p id="purpose-hint" class="hint">
          {t('request.purpose.hint')}
        </p>
      </div>
      <div class="field">
        <label for="days">{t('request.days')}</label>
        <input
          id="days"
          type="number"
          required
          min={1}
          max={3650}
          value={days}
          onInput={(e) => setDays(Number(e.currentTarget.value))}
        />
      </div>
      <div class="field">
        <label for="project">{t('request.project')}</label>
        <select id="project" value={project} onChange={(e) => setProject(e.currentTarget.value)}>
          <option value="">{t('request.project.none')}</option>
          {projects.value?.items.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title || p.name}
            </option>
          ))}
        </select>
      </div>
      {projects.error ? <ProblemNotice error={projects.error} retry={projects.reload} /> : null}
      <Actions busy={busy} error={error} submit="request.submit" onClose={onClose} />
    </form>
  );
}

export function ContributionForm({ d, onClose }: { d: Dataset; onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [consent, setConsent] = useState(false);
  const [license, setLicense] = useState(false);
  const { busy, error, done, submit } = useSubmit(() =>
    api.contribute(d.id, { title, description, consent, license_accepted: license }),
  );
  if (done) return <Sent text={t('contribute.sent', { id: done.id, upload: done.upload_id })} onClose={onClose} />;
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="contribute-title">
      <h2 id="contribute-title">{t('contribute.title')}</h2>
      <div class="field">
        <label for="c-title">{t('contribute.what')}</label>
        <input
          id="c-title"
          required
          maxLength={200}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="c-description">{t('contribute.description')}</label>
        <textarea
          id="c-description"
          rows={3}
          maxLength={10000}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </div>
      <div class="field field-check">
        <input
          id="c-consent"
          type="checkbox"
          required
          checked={consent}
          onChange={(e) => setConsent(e.currentTarget.checked)}
        />
        <label for="c-consent">{t('contribute.consent')}</label>
      </div>
      <div class="field field-check">
        <input
          id="c-license"
          type="checkbox"
          required
          checked={license}
          onChange={(e) => setLicense(e.currentTarget.checked)}
        />
        <label for="c-license">{t('contribute.license', { license: d.license })}</label>
      </div>
      <Actions busy={busy} error={error} submit="contribute.submit" onClose={onClose} />
    </form>
  );
}
