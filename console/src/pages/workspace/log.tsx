// A job's live log: stdout and stderr (tabs), each followed with GET /jobs/{id}/logs?offset=N&
// wait=20, which the server holds until there are bytes beyond N or the job has ended; the answer
// says where to continue (X-Log-Offset) and the job's state (X-Job-State). A server that answers
// at once with nothing new is asked again after 1 s, 2 s, then every 5 s. The view stays at the
// end unless the person has scrolled up. Screen readers hear only that the job has ended (new
// lines, announced one by one, would drown everything else).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { formatNumber, t } from '../../i18n';
import { hasEnded, readLog, type LogStream } from './api';

const waitS = 20;
const keepChars = 1_000_000;  // the end of a longer log is shown

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    const timer = setTimeout(ok, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      ok();
    });
  });
}

interface Followed {
  text: string;
  cut: boolean;      // its beginning is no longer shown
  done: boolean;     // the job has ended and all of its output is here
  error: unknown;
  retry: () => void;
}

function useFollow(id: string, stream: LogStream, onState: (s: string) => void): Followed {
  const [text, setText] = useState('');
  const [cut, setCut] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const offset = useRef(0);
  const decoder = useRef(new TextDecoder());
  const stateRef = useRef(onState);
  stateRef.current = onState;

  useEffect(() => {
    const c = new AbortController();
    const append = (chunk: string) => {
      if (!chunk) return;
      setText((old) => {
        const all = old + chunk;
        if (all.length <= keepChars) return all;
        setCut(true);
        return all.slice(all.length - keepChars);
      });
    };
    setError(null);
    (async () => {
      let delay = 0;
      while (!c.signal.aborted) {
        const began = Date.now();
        const slice = await readLog(id, stream, offset.current, waitS, c.signal);
        if (c.signal.aborted) return;
        offset.current = slice.next;
        append(decoder.current.decode(slice.bytes, { stream: true }));
        stateRef.current(slice.state);
        if (slice.bytes.length > 0) {
          delay = 0;
          continue;
        }
        if (hasEnded(slice.state)) {
          append(decoder.current.decode());
          setDone(true);
          return;
        }
        // Nothing new: the server waited for it (ask again now), or it answered at once (wait).
        if (Date.now() - began >= 1000) {
          delay = 0;
          continue;
        }
        delay = delay ? Math.min(delay * 2, 5000) : 1000;
        await sleep(delay, c.signal);
      }
    })().catch((e: unknown) => {
      if (!c.signal.aborted) setError(e);
    });
    return () => c.abort();
  }, [id, stream, attempt]);

  return { text, cut, done, error, retry: () => setAttempt((n) => n + 1) };
}

function LogView({ f, label, visible }: { f: Followed; label: string; visible: boolean }) {
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [f.text, visible]);
  return (
    <>
      {f.error ? <ProblemNotice error={f.error} retry={f.retry} /> : null}
      {f.cut && <p class="muted">{t('ws.log.cut', { count: formatNumber(keepChars) })}</p>}
      {f.text === '' ? (
        <p class="muted">{f.done ? t('ws.log.empty') : t('ws.log.waiting')}</p>
      ) : null}
      <pre
        ref={box}
        class="ws-log"
        tabIndex={0}
        aria-label={label}
        hidden={f.text === ''}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {f.text}
      </pre>
    </>
  );
}

const streams: LogStream[] = ['stdout', 'stderr'];

export function LiveLog({ jobId, onState }: { jobId: string; onState: (s: string) => void }) {
  const [tab, setTab] = useState<LogStream>('stdout');
  const out = useFollow(jobId, 'stdout', onState);
  const err = useFollow(jobId, 'stderr', onState);
  const followed: Record<LogStream, Followed> = { stdout: out, stderr: err };
  const tabs = useRef<Record<string, HTMLButtonElement | null>>({});
  function key(e: KeyboardEvent) {
    const i = streams.indexOf(tab);
    let next: LogStream | undefined;
    if (e.key === 'ArrowRight') next = streams[(i + 1) % streams.length];
    else if (e.key === 'ArrowLeft') next = streams[(i + streams.length - 1) % streams.length];
    else if (e.key === 'Home') next = streams[0];
    else if (e.key === 'End') next = streams[streams.length - 1];
    if (!next) return;
    e.preventDefault();
    setTab(next);
    tabs.current[next]?.focus();
  }
  return (
    <div class="ws-logs">
      <div role="tablist" aria-label={t('ws.log.streams')} class="ws-tabs">
        {streams.map((s) => (
          <button
            key={s}
            type="button"
            role="tab"
            id={`log-tab-${s}`}
            class="ws-tab"
            aria-selected={tab === s}
            aria-controls={`log-panel-${s}`}
            tabIndex={tab === s ? 0 : -1}
            ref={(el) => {
              tabs.current[s] = el;
            }}
            onClick={() => setTab(s)}
            onKeyDown={key}
          >
            {t(s === 'stdout' ? 'ws.log.stdout' : 'ws.log.stderr')}
          </button>
        ))}
      </div>
      {streams.map((s) => (
        <div key={s} role="tabpanel" id={`log-panel-${s}`} aria-labelledby={`log-tab-${s}`} hidden={tab !== s} class="ws-tabpanel">
          <LogView f={followed[s]} label={t(s === 'stdout' ? 'ws.log.stdout' : 'ws.log.stderr')} visible={tab === s} />
        </div>
      ))}
    </div>
  );
}
