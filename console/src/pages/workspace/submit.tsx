// Submitting a job to a project: its name, what it runs (a command line, split here into the
// argument list it runs directly, or a bash script), GPUs and their type, CPUs and a time limit.
// POST /api/v1/jobs; the server checks the rest (the allocation, the limits) and says why not.
import { useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { t } from '../../i18n';
import { ws, type SubmitBody } from './api';
import type { Job } from '../../api/client';
import { splitArgs } from './args';
import { stateLabel } from './format';

export function SubmitForm({ projectId, onSubmitted }: { projectId: string; onSubmitted: (j: Job) => void }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'command' | 'script'>('script');
  const [line, setLine] = useState('');
  const [script, setScript] = useState('#!/bin/bash\n');
  const [gpus, setGpus] = useState(0);
  const [gpuType, setGpuType] = useState('');
  const [cpus, setCpus] = useState(1);
  const [minutes, setMinutes] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Job | null>(null);
  const split = splitArgs(line);
  const lineError = 'error' in split ? t('ws.submit.command.quote') : null;

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(null);
    const body: SubmitBody = { project_id: projectId, name: name.trim(), cpus, gpus, time_limit_s: minutes * 60 };
    if (gpus > 0 && gpuType.trim()) body.gpu_type = gpuType.trim();
    if (mode === 'command') {
      if ('error' in split || split.args.length === 0) return;
      body.command = split.args;
    } else {
      body.script = script;
    }
    setBusy(true);
    try {
      const job = await ws.submit(body);
      setDone(job);
      onSubmitted(job);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel ws-submit" onSubmit={submit} aria-labelledby="submit-title">
      <h3 id="submit-title">{t('ws.submit.title')}</h3>
      <div class="field">
        <label for="job-name">{t('ws.submit.name')}</label>
        <input id="job-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      <fieldset class="ws-fieldset">
        <legend>{t('ws.submit.what')}</legend>
        <label class="ws-radio">
          <input type="radio" name="job-mode" checked={mode === 'script'} onChange={() => setMode('script')} />{' '}
          {t('ws.submit.mode.script')}
        </label>
        <label class="ws-radio">
          <input type="radio" name="job-mode" checked={mode === 'command'} onChange={() => setMode('command')} />{' '}
          {t('ws.submit.mode.command')}
        </label>
      </fieldset>
      {mode === 'script' ? (
        <div class="field">
          <label for="job-script">{t('ws.submit.script')}</label>
          <textarea
            id="job-script"
            class="mono"
            required
            rows={8}
            spellcheck={false}
            aria-describedby="job-script-hint"
            value={script}
            onInput={(e) => setScript(e.currentTarget.value)}
          />
          <p id="job-script-hint" class="hint">
            {t('ws.submit.script.hint')}
          </p>
        </div>
      ) : (
        <div class="field">
          <label for="job-command">{t('ws.submit.command')}</label>
          <input
            id="job-command"
            class="mono"
            required
            spellcheck={false}
            aria-describedby="job-command-hint"
            aria-invalid={lineError ? true : undefined}
            value={line}
            onInput={(e) => setLine(e.currentTarget.value)}
          />
          <p id="job-command-hint" class="hint">
            {lineError ??
              ('args' in split && split.args.length > 0
                ? t('ws.submit.command.args', { args: split.args.map((a) => JSON.stringify(a)).join(' ') })
                : t('ws.submit.command.hint'))}
          </p>
        </div>
      )}
      <div class="ws-row">
        <div class="field">
          <label for="job-gpus">{t('ws.submit.gpus')}</label>
          <input id="job-gpus" type="number" min={0} max={4096} required value={gpus}
            onInput={(e) => setGpus(Number(e.currentTarget.value))} />
        </div>
        <div class="field">
          <label for="job-gpu-type">{t('ws.submit.gpuType')}</label>
          <input id="job-gpu-type" maxLength={40} aria-describedby="job-gpu-type-hint" value={gpuType}
            disabled={gpus === 0} onInput={(e) => setGpuType(e.currentTarget.value)} />
          <p id="job-gpu-type-hint" class="hint">
            {t('ws.submit.gpuType.hint')}
          </p>
        </div>
        <div class="field">
          <label for="job-cpus">{t('ws.submit.cpus')}</label>
          <input id="job-cpus" type="number" min={1} max={4096} required value={cpus}
            onInput={(e) => setCpus(Number(e.currentTarget.value))} />
        </div>
        <div class="field">
          <label for="job-minutes">{t('ws.submit.minutes')}</label>
          <input id="job-minutes" type="number" min={1} max={525600} required value={minutes}
            onInput={(e) => setMinutes(Number(e.currentTarget.value))} />
        </div>
      </div>
      {error ? <ProblemNotice error={error} /> : null}
      <div class="actions">
        <button type="submit" disabled={busy || (mode === 'command' && lineError !== null)}>
          {busy ? t('common.working') : t('ws.submit.submit')}
        </button>
      </div>
      <div role="status" class="ws-submitted">
        {done ? (
          <p class="notice notice-ok">
            {t('ws.submit.done', { name: done.name, state: stateLabel(done.state) })}{' '}
            <a href={`/jobs/${encodeURIComponent(done.id)}`}>{t('ws.submit.open', { name: done.name })}</a>
          </p>
        ) : null}
      </div>
    </form>
  );
}
