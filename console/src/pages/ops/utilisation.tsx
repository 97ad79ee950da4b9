// Utilisation per accelerator type over time: GET /ops/utilisation answers one period, so it is
// asked for each of the last 24 hours or 14 days (a few at a time), drawn with uPlot (loaded only
// here) and given as a table for those who do not read the chart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ProblemNotice } from '../../components/problem';
import { locale, t } from '../../i18n';
import { opsApi } from './api';
import type { UtilisationReport } from '../../api/client';
import { formatHours, formatPercent, Section } from './common';
import type { SectionProps } from './index';
import { Loading } from '../../components/loading';

type Span = 'hours' | 'days';

interface Period {
  since: Date;
  until: Date;
}

function periods(span: Span, now: Date): Period[] {
  const step = span === 'hours' ? 3600_000 : 86400_000;
  const count = span === 'hours' ? 24 : 14;
  // Whole hours (or days, UTC) up to the one under way.
  const end = Math.ceil(now.getTime() / step) * step;
  const out: Period[] = [];
  for (let i = count; i > 0; i--) {
    out.push({ since: new Date(end - i * step), until: new Date(end - (i - 1) * step) });
  }
  return out;
}

// Runs the calls a few at a time; the first failure fails the whole.
async function inBatches<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await (tasks[i] as () => Promise<T>)();
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return out;
}

interface Series {
  periods: Period[];
  reports: UtilisationReport[];
  types: string[];
}

export function Utilisation(_: SectionProps) {
  const [span, setSpan] = useState<Span>('hours');
  const [data, setData] = useState<Series | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const c = new AbortController();
    const ps = periods(span, new Date());
    setData(null);
    setError(null);
    inBatches(
      ps.map((p) => () =>
        opsApi.utilisation({ since: p.since.toISOString(), until: p.until.toISOString() }, c.signal),
      ),
      6,
    ).then(
      (reports) => {
        if (c.signal.aborted) return;
        const types = [...new Set(reports.flatMap((r) => r.items.map((i) => i.type)))].sort();
        setData({ periods: ps, reports, types });
      },
      (e: unknown) => !c.signal.aborted && setError(e),
    );
    return () => c.abort();
  }, [span, attempt]);

  const label = (p: Period) =>
    new Intl.DateTimeFormat(locale(), span === 'hours' ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric' }).format(
      p.since,
    );
  const last = data?.reports[data.reports.length - 1];
  return (
    <>
      <p class="lead">{t('ops.util.intro')}</p>
      <fieldset class="toggle">
        <legend>{t('ops.util.span')}</legend>
        <label>
          <input type="radio" name="span" checked={span === 'hours'} onChange={() => setSpan('hours')} />
          {t('ops.util.hours')}
        </label>
        <label>
          <input type="radio" name="span" checked={span === 'days'} onChange={() => setSpan('days')} />
          {t('ops.util.days')}
        </label>
      </fieldset>
      {error ? <ProblemNotice error={error} retry={() => setAttempt((a) => a + 1)} /> : null}
      {!data && !error && (
        <Loading text="ops.loading" />
      )}
      {data && data.types.length === 0 && <p role="status">{t('ops.util.none')}</p>}
      {data && data.types.length > 0 && (
        <>
          {last && (
            <Section id="util-now" title={t('ops.util.now')}>
              <ul class="figures">
                {last.items.map((i) => (
                  <li key={i.type}>
                    <strong>{i.type}</strong>{' '}
                    {t('ops.util.busyNow', { busy: i.busy_now, capacity: i.capacity })}
                  </li>
                ))}
              </ul>
            </Section>
          )}
          <Section id="util-chart" title={span === 'hours' ? t('ops.util.hours') : t('ops.util.days')}>
            <Chart data={data} label={label} />
            <details class="table-alt">
              <summary>{t('ops.util.table')}</summary>
              <div class="table-scroll">
                <table class="data">
                  <caption class="visually-hidden">{t('ops.util.table')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('ops.util.period')}</th>
                      {data.types.map((ty) => (
                        <th scope="col" key={ty} class="num">
                          {ty}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {data.periods.map((p, i) => (
                      <tr key={p.since.toISOString()}>
                        <th scope="row">
                          <time dateTime={p.since.toISOString()}>{label(p)}</time>
                        </th>
                        {data.types.map((ty) => {
                          const row = data.reports[i]?.items.find((x) => x.type === ty);
                          return (
                            <td key={ty} class="num">
                              {row
                                ? t('ops.util.cell', {
                                    percent: formatPercent(row.utilisation),
                                    hours: formatHours(row.delivered_hours),
                                  })
                                : '–'}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </Section>
        </>
      )}
    </>
  );
}

const colours = ['#0a58ab', '#b3400a', '#1d6b34', '#6b3fa0', '#a4161a', '#4f5661'];

function Chart({ data, label }: { data: Series; label: (p: Period) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let plot: { destroy(): void } | null = null;
    let live = true;
    Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(
      ([{ default: UPlot }]) => {
        if (!live || !box.current) return;
        const xs = data.periods.map((p) => p.since.getTime() / 1000);
        const ys = data.types.map((ty) =>
          data.reports.map((r) => {
            const row = r.items.find((x) => x.type === ty);
            return row ? row.utilisation * 100 : null;
          }),
        );
        const width = Math.max(320, Math.min(900, box.current.clientWidth || 720));
        plot = new UPlot(
          {
            width,
            height: 280,
            // Charges count in the period a run ended, so a long run can put one period over 100%.
            scales: { y: { range: (_u: unknown, _min: number, max: number) => [0, Math.max(100, Math.ceil(max / 10) * 10)] } },
            axes: [
              { values: (_u: unknown, ticks: number[]) => ticks.map((s) => label({ since: new Date(s * 1000), until: new Date(s * 1000) })) },
              { label: t('ops.util.axis'), values: (_u: unknown, ticks: number[]) => ticks.map((v) => `${v}%`) },
            ],
            series: [
              {},
              ...data.types.map((ty, i) => ({
                label: ty,
                stroke: colours[i % colours.length],
                width: 2,
                value: (_u: unknown, v: number | null) => (v === null ? '–' : `${v.toFixed(1)}%`),
              })),
            ],
          },
          [xs, ...ys] as unknown as [number[], ...(number | null)[][]],
          box.current,
        );
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
      plot?.destroy();
    };
  }, [data]);
  const summary = t('ops.util.chart', { types: data.types.join(', ') });
  return (
    <>
      {error ? <ProblemNotice error={error} /> : null}
      <div ref={box} class="chart" role="img" aria-label={summary} />
    </>
  );
}
