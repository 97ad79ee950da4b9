// Sending code, where the benchmark's rules take it: the participant picks a folder (every file
// under it, paths relative to it) or some files, names the command that runs them, and the
// console sends them as the API takes code (validation/code_tree.h: {"entry", "files": {path:
// base64}}; the command may be left out where the phase's ingestion program runs the code).
// What the server would refuse for its size, its count of files or a missing command is told
// next to its field before anything is sent; what the server refuses is told in words.
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { formatBytes, formatNumber, t } from '../../i18n';
import { bench, type Benchmark, type Phase, type Submission } from './api';
import { stateLabel } from './format';
import { PhaseAndDescription, SubmitFoot } from './submitFields';

// The server's bounds (validation/code_tree.h).
const maxFiles = 10000;
const maxEntry = 2000;

interface Chosen {
  path: string;
  file: File;
}

// The path a file is sent under: relative to the folder picked (its own name dropped), or the
// file's name where files were picked.
function relativePath(f: File): string {
  const rel = f.webkitRelativePath;
  if (!rel) return f.name;
  const slash = rel.indexOf('/');
  return slash < 0 ? rel : rel.slice(slash + 1);
}

// The size of the JSON the files make once base64-encoded, an upper bound known before reading
// them: 4 characters per 3 bytes, and each path with its quotes and separators.
function encodedSize(chosen: Chosen[], entry: string): number {
  let n = 32 + new TextEncoder().encode(JSON.stringify(entry)).length;
  for (const c of chosen) {
    n += 4 * Math.ceil(c.file.size / 3) + new TextEncoder().encode(JSON.stringify(c.path)).length + 4;
  }
  return n;
}

function base64Of(f: File): Promise<string> {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => {
      const url = String(r.result);
      ok(url.slice(url.indexOf(',') + 1));
    };
    r.onerror = () => fail(r.error ?? new Error(`cannot read ${f.name}`));
    r.readAsDataURL(f);
  });
}

export function CodeForm({
  b,
  open,
  onSubmitted,
}: {
  b: Benchmark;
  open: Phase[];
  onSubmitted: (s: Submission) => void;
}) {
  const [phase, setPhase] = useState((open[0] as Phase).name);
  const [chosen, setChosen] = useState<Chosen[]>([]);
  const [entry, setEntry] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [filesError, setFilesError] = useState<string | null>(null);
  const [entryError, setEntryError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Submission | null>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const current = open.find((p) => p.name === phase) ?? (open[0] as Phase);
  // A phase with an ingestion program runs the code itself: there the command may be left out.
  const ingestion = current.ingestion_program_dataset_id !== '';

  // What is wrong with the files chosen, or null.
  function checkFiles(list: Chosen[], command: string): string | null {
    if (list.length === 0) return t('bench.code.files.missing');
    if (list.length > maxFiles) {
      return t('bench.code.files.tooMany', { count: formatNumber(list.length), max: formatNumber(maxFiles) });
    }
    const size = encodedSize(list, command);
    if (size > b.rules.max_bytes) {
      return t('bench.code.files.tooLarge', { size: formatBytes(size), max: formatBytes(b.rules.max_bytes) });
    }
    return null;
  }

  function choose(files: FileList | null | undefined, other: HTMLInputElement | null) {
    setDone(null);
    setError(null);
    const list = [...(files ?? [])].map((f) => ({ path: relativePath(f), file: f }));
    list.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    setChosen(list);
    // One way of choosing at a time: a folder replaces the files picked, and the other way round.
    if (other) other.value = '';
    setFilesError(files && files.length > 0 ? checkFiles(list, entry) : null);
  }

  function checkEntry(command: string): string | null {
    if (!command) return ingestion ? null : t('bench.code.entry.missing');
    if (command.length > maxEntry) {
      return t('bench.code.entry.tooLong', { length: formatNumber(command.length), max: formatNumber(maxEntry) });
    }
    return null;
  }

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(null);
    const command = entry.trim();
    const fe = checkFiles(chosen, command);
    const ee = checkEntry(command);
    setFilesError(fe);
    setEntryError(ee);
    if (fe || ee) return;
    setBusy(true);
    try {
      const files: Record<string, string> = {};
      for (const c of chosen) files[c.path] = await base64Of(c.file);
      const body = new Blob([JSON.stringify({ entry: command, files })], { type: 'application/json' });
      if (body.size > b.rules.max_bytes) {
        setFilesError(t('bench.code.files.tooLarge', { size: formatBytes(body.size), max: formatBytes(b.rules.max_bytes) }));
        return;
      }
      const s = await bench.submitCode(b.id, body, current.name, description.trim());
      setDone(s);
      setChosen([]);
      setDescription('');
      if (folderInput.current) folderInput.current.value = '';
      if (filesInput.current) filesInput.current.value = '';
      onSubmitted(s);
    } catch (err) {
      // What the server found wrong with the code itself (a path, the command) is told by the files.
      if (err instanceof ApiError && err.status === 400 && err.problem.detail) {
        setFilesError(t('bench.code.refused', { detail: err.problem.detail }));
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  const total = chosen.reduce((n, c) => n + c.file.size, 0);
  const filesDescribed = ['bench-code-files-hint', 'bench-code-chosen', filesError ? 'bench-code-files-error' : '']
    .filter(Boolean)
    .join(' ');
  const entryDescribed = ['bench-code-entry-hint', entryError ? 'bench-code-entry-error' : ''].filter(Boolean).join(' ');
  const shown = chosen.slice(0, 8).map((c) => c.path);
  return (
    <form class="panel bench-submit" onSubmit={submit} aria-labelledby="bench-code-title" noValidate>
      <h3 id="bench-code-title">{t('bench.code.title')}</h3>
      <p class="hint">
        {t('bench.code.lead', {
          seconds: formatNumber(b.rules.max_runtime_s),
          memory: formatNumber(b.rules.max_memory_mb),
        })}
      </p>
      <fieldset>
        <legend>{t('bench.code.files')}</legend>
        <div class="field">
          <label for="bench-code-folder">{t('bench.code.folder')}</label>
          <input
            id="bench-code-folder"
            ref={folderInput}
            type="file"
            {...{ webkitdirectory: true }}
            multiple
            aria-describedby={filesDescribed}
            aria-invalid={filesError ? true : undefined}
            onChange={(e) => choose(e.currentTarget.files, filesInput.current)}
          />
        </div>
        <div class="field">
          <label for="bench-code-pick">{t('bench.code.pick')}</label>
          <input
            id="bench-code-pick"
            ref={filesInput}
            type="file"
            multiple
            aria-describedby={filesDescribed}
            aria-invalid={filesError ? true : undefined}
            onChange={(e) => choose(e.currentTarget.files, folderInput.current)}
          />
        </div>
        <p id="bench-code-files-hint" class="hint">
          {t('bench.code.files.hint', { max: formatBytes(b.rules.max_bytes) })}
        </p>
        <p id="bench-code-chosen" class="bench-code-chosen" aria-live="polite">
          {chosen.length > 0
            ? t('bench.code.chosen', {
                count: formatNumber(chosen.length),
                size: formatBytes(total),
                paths: shown.join(', ') + (chosen.length > shown.length ? ', …' : ''),
              })
            : t('bench.code.chosen.none')}
        </p>
        {filesError && (
          <p id="bench-code-files-error" class="field-error" role="alert">
            {filesError}
          </p>
        )}
      </fieldset>
      <div class="field">
        <label for="bench-code-entry">{t(ingestion ? 'bench.code.entry.optional' : 'bench.code.entry')}</label>
        <input
          id="bench-code-entry"
          class="mono"
          value={entry}
          aria-describedby={entryDescribed}
          aria-invalid={entryError ? true : undefined}
          onInput={(e) => {
            setEntry(e.currentTarget.value);
            setEntryError(null);
          }}
        />
        <p id="bench-code-entry-hint" class="hint">
          {t(ingestion ? 'bench.code.entry.hint.ingestion' : 'bench.code.entry.hint')}
        </p>
        {entryError && (
          <p id="bench-code-entry-error" class="field-error" role="alert">
            {entryError}
          </p>
        )}
      </div>
      <PhaseAndDescription
        idPrefix="bench-code"
        open={open}
        phase={current.name}
        onPhase={setPhase}
        description={description}
        onDescription={setDescription}
      />
      <SubmitFoot
        error={error}
        tooLarge="bench.code.error.tooLarge"
        busy={busy}
        send={t('bench.code.send')}
        done={done ? t('bench.code.done', { state: stateLabel(done.state), count: formatNumber(done.rows) }) : null}
      />
    </form>
  );
}
