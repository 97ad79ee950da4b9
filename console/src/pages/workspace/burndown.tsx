// An allocation's burn-down: what its project has used, and used and held, over the grant's
// period, against the grant and the line of an even pace from its start to its end, with the
// hours left; drawn with uPlot from the allocation's ledger (every page of it). The same figures
// are said in words beside it (Summary), and the ledger is a table under it, so the chart is
// never the only way to read them.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ProblemNotice } from '../../components/problem';
import { formatNumber, locale, t } from '../../i18n';
import { ws } from './api';
import type { Allocation, LedgerEntry } from '../../api/client';
import { formatHours, formatTime } from './format';
import { Loading } from '../../components/loading';

// The most ledger pages read for one chart (500 entries each); beyond, the chart ends with the
// allocation's balances now.
const maxPages = 40;
const tableRows = 100;

export interface Pace {
  elapsed: number;   // the part of the grant's period gone, 0 to 1
  expected: number;  // hours an even pace would have used by now
  ratio: number | null;  // used over expected (null before the period begins)
}

export function paceOf(a: Allocation, now = Date.now()): Pace {
  const start = Date.parse(a.starts_at);
  const end = Date.parse(a.expires_at);
  const elapsed = end > start ? Math.min(1, Math.max(0, (now - start) / (end - start))) : 1;
  const expected = a.granted_hours * elapsed;
  return { elapsed, expected, ratio: expected > 0 ? a.used_hours / expected : null };
}

// The figures in words: granted, used, held, left, and the pace.
export function Summary({ a }: { a: Allocation }) {
  const pace = paceOf(a);
  // Small parts keep two significant digits (0.0042%), not 0%.
  const pct = (x: number) =>
    new Intl.NumberFormat(
      locale(),
      x > 0 && x < 0.1 ? { style: 'percent', maximumSignificantDigits: 2 } : { style: 'percent', maximumFractionDigits: 0 },
    ).format(x);
  const times = (x: number) => new Intl.NumberFormat(locale(), { maximumFractionDigits: x < 10 ? 1 : 0 }).format(x);
  let paceText: string;
  if (a.state === 'pending') paceText = t('ws.alloc.pace.pending', { start: formatTime(a.starts_at) });
  else if (pace.ratio === null) paceText = t('ws.alloc.pace.none');
  else {
    const vars = { elapsed: pct(pace.elapsed), expected: formatHours(pace.expected) };
    if (a.state === 'expired') paceText = t('ws.alloc.pace.ended', { ...vars, ratio: pct(pace.ratio) });
    else if (pace.ratio >= 2) paceText = t('ws.alloc.pace.ahead', { ...vars, times: times(pace.ratio) });
    else paceText = t('ws.alloc.pace.text', { ...vars, ratio: pct(pace.ratio) });
  }
  return (
    <>
      <dl class="ws-figures">
        <div>
          <dt>{t('ws.alloc.granted')}</dt>
          <dd data-figure="granted">{formatHours(a.granted_hours)}</dd>
        </div>
        <div>
          <dt>{t('ws.alloc.used')}</dt>
          <dd data-figure="used">{formatHours(a.used_hours)}</dd>
        </div>
        <div>
          <dt>{t('ws.alloc.held')}</dt>
          <dd data-figure="held">{formatHours(a.held_hours)}</dd>
        </div>
        <div>
          <dt>{t('ws.alloc.left')}</dt>
          <dd data-figure="left">{formatHours(a.left_hours)}</dd>
        </div>
      </dl>
      <p class="ws-pace">
        <strong>{t('ws.alloc.pace')}: </strong>
        {paceText}
      </p>
    </>
  );
}

async function readLedger(id: string, signal: AbortSignal): Promise<{ entries: LedgerEntry[]; complete: boolean }> {
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await ws.ledger(id, cursor, signal);
    entries.push(...page.items);
    if (!page.next_cursor) return { entries, complete: true };
    cursor = page.next_cursor;
  }
  return { entries, complete: false };
}

// The chart's columns: times (s) and, for each, used, used+held, granted, even pace and left.
export function series(a: Allocation, entries: LedgerEntry[], now = Date.now()): uPlot.AlignedData {
  const start = Date.parse(a.starts_at) / 1000;
  const end = Date.parse(a.expires_at) / 1000;
  const nowS = now / 1000;
  type Row = [number, number | null, number | null, number | null, number | null];
  const rows = new Map<number, Row>();
  let used = 0;
  let held = 0;
  let granted = 0;
  let left = 0;
  const put = (x: number) => rows.set(x, [x, used, used + held, granted, left]);
  put(start);
  for (const e of entries) {
    used += e.used_delta_hours;
    held += e.held_delta_hours;
    left += e.available_delta_hours;
    if (e.kind === 'grant' || e.kind === 'adjust') granted += e.available_delta_hours;
    put(Date.parse(e.at) / 1000);
  }
  // Now, with the balances the allocation reports (they hold even where the ledger was cut).
  used = a.used_hours;
  held = a.held_hours;
  granted = a.granted_hours;
  left = a.left_hours;
  if (nowS < end) put(Math.max(nowS, start));
  else put(end);
  if (!rows.has(end)) rows.set(end, [end, null, null, granted, null]);
  const sorted = [...rows.values()].sort((p, q) => p[0] - q[0]);
  const span = end - start;
  const pace = sorted.map(([x]) =>
    span > 0 ? a.granted_hours * Math.min(1, Math.max(0, (x - start) / span)) : a.granted_hours,
  );
  return [
    sorted.map((r) => r[0]),
    sorted.map((r) => r[1]),
    sorted.map((r) => r[2]),
    sorted.map((r) => r[3]),
    pace,
    sorted.map((r) => r[4]),
  ];
}

function Chart({ a, data }: { a: Allocation; data: uPlot.AlignedData }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const hours = (_: uPlot, v: number | null) => (v === null ? '–' : formatHours(v));
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 260,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, a.granted_hours) * 1.05 || 1] } },
        series: [
          { label: t('ws.ledger.at'), value: (_u, v) => (v === null ? '–' : formatTime(new Date(v * 1000).toISOString())) },
          { label: t('ws.alloc.used'), stroke: '#0a58ab', width: 2, fill: 'rgba(10, 88, 171, 0.12)', value: hours },
          { label: t('ws.alloc.usedHeld'), stroke: '#6b3fa0', width: 2, dash: [6, 4], value: hours },
          { label: t('ws.alloc.granted'), stroke: '#1b1f24', width: 1, value: hours },
          { label: t('ws.alloc.pace.line'), stroke: '#b3400a', width: 2, dash: [2, 4], value: hours },
          { label: t('ws.alloc.left'), stroke: '#1d6b34', width: 2, value: hours },
        ],
        axes: [{}, { values: (_u, vals) => vals.map((v) => formatNumber(v)), size: 60 }],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [a, data]);
  return <div ref={box} class="ws-chart" data-points={data[0].length} />;
}

export function BurnDown({ a }: { a: Allocation }) {
  const [ledger, setLedger] = useState<{ entries: LedgerEntry[]; complete: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const c = new AbortController();
    setError(null);
    readLedger(a.id, c.signal).then(
      (l) => !c.signal.aborted && setLedger(l),
      (e: unknown) => !c.signal.aborted && setError(e),
    );
    return () => c.abort();
  }, [a, attempt]);
  const data = useMemo(() => (ledger ? series(a, ledger.entries) : null), [a, ledger]);
  const captionId = `chart-${a.id}`;
  return (
    <figure class="ws-burndown" aria-labelledby={captionId}>
      <figcaption id={captionId}>{t('ws.alloc.chart', { resource: a.resource })}</figcaption>
      {error ? <ProblemNotice error={error} retry={() => setAttempt((n) => n + 1)} /> : null}
      {!ledger && !error ? (
        <Loading text="ws.loading" />
      ) : null}
      {data && <Chart a={a} data={data} />}
      {ledger && !ledger.complete && <p class="muted">{t('ws.alloc.cut', { count: formatNumber(ledger.entries.length) })}</p>}
      {ledger && <LedgerTable entries={ledger.entries} />}
    </figure>
  );
}

function LedgerTable({ entries }: { entries: LedgerEntry[] }) {
  const shown = entries.slice(-tableRows).reverse();
  const delta = (h: number) => (h === 0 ? '' : `${h > 0 ? '+' : '−'}${formatHours(Math.abs(h))}`);
  return (
    <details class="ws-ledger">
      <summary>{t('ws.ledger.title', { count: formatNumber(entries.length) })}</summary>
      {entries.length > tableRows && <p class="muted">{t('ws.ledger.newest', { count: tableRows })}</p>}
      <table class="ws-table">
        <thead>
          <tr>
            <th scope="col">{t('ws.ledger.at')}</th>
            <th scope="col">{t('ws.ledger.kind')}</th>
            <th scope="col" class="num">{t('ws.alloc.used')}</th>
            <th scope="col" class="num">{t('ws.alloc.held')}</th>
            <th scope="col" class="num">{t('ws.alloc.left')}</th>
            <th scope="col">{t('ws.ledger.job')}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.id}>
              <td>
                <time dateTime={e.at}>{formatTime(e.at)}</time>
              </td>
              <td>{e.kind}</td>
              <td class="num">{delta(e.used_delta_hours)}</td>
              <td class="num">{delta(e.held_delta_hours)}</td>
              <td class="num">{delta(e.available_delta_hours)}</td>
              <td>{e.job_id ? <a href={`/jobs/${encodeURIComponent(e.job_id)}`} class="mono">{e.job_id}</a> : e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
