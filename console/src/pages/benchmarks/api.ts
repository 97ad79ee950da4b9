// The benchmarks' calls to the API, typed from the OpenAPI document (schema.d.ts), through the
// console's one client; and the links the browser follows itself (the leaderboard's CSV, a
// report's envelope, the centre's report key).
import { request, seg, upload, withQuery } from '../../api/client';
import type { Page } from '../../api/client';
import type { components } from '../../api/schema';

type S = components['schemas'];
export type Benchmark = S['Benchmark'];
export type Phase = S['BenchmarkPhase'];
export type Metric = S['BenchmarkMetric'];
export type Team = S['BenchmarkTeam'];
export type Submission = S['Submission'];
export type SubmissionEvent = S['SubmissionEvent'];
export type Leaderboard = S['Leaderboard'];
export type LeaderboardRow = S['LeaderboardRow'];
export type Report = S['Report'];
export type ReportSummary = S['ReportSummary'];
export type ReportKey = S['ReportKey'];

export interface BoardQuery {
  phase: string;
  split: 'public' | 'private';
  metric: string;
  offset: number;
  limit: number;
}

export const bench = {
  list: (cursor: string | undefined, signal: AbortSignal) =>
    request<Page<Benchmark>>('GET', '/api/v1/benchmarks', { query: { limit: 25, cursor }, signal }),
  get: (id: string, signal?: AbortSignal) =>
    request<Benchmark>('GET', `/api/v1/benchmarks/${seg(id)}`, { signal }),
  leaderboard: (id: string, q: BoardQuery, signal?: AbortSignal) =>
    request<Leaderboard>('GET', `/api/v1/benchmarks/${seg(id)}/leaderboard`, {
      query: { phase: q.phase, split: q.split, metric: q.metric, offset: q.offset, limit: q.limit },
      signal,
    }),
  teams: (id: string, signal?: AbortSignal) =>
    request<S['BenchmarkTeamPage']>('GET', `/api/v1/benchmarks/${seg(id)}/teams`, { signal }),
  submissions: (id: string, cursor: string | undefined, signal: AbortSignal) =>
    request<Page<Submission>>('GET', `/api/v1/benchmarks/${seg(id)}/submissions`, {
      query: { limit: 200, cursor },
      signal,
    }),
  submission: (id: string, signal?: AbortSignal) =>
    request<Submission>('GET', `/api/v1/submissions/${seg(id)}`, { signal }),
  submit: (id: string, file: File, format: 'csv' | 'jsonl' | 'json', phase: string, description: string) =>
    upload<Submission>(
      `/api/v1/benchmarks/${seg(id)}/submissions`,
      file,
      format === 'csv' ? 'text/csv' : format === 'json' ? 'application/json' : 'application/x-ndjson',
      { query: { phase, format, description: description || undefined } },
    ),
  // Code (validation/code_tree.h): the JSON {"entry", "files": {path: base64}}, already encoded
  // (its size is checked against the rules before it is sent).
  submitCode: (id: string, body: Blob, phase: string, description: string) =>
    upload<Submission>(`/api/v1/benchmarks/${seg(id)}/submissions`, body, 'application/json', {
      query: { kind: 'code', phase, description: description || undefined },
    }),
  cancel: (id: string) => request<Submission>('POST', `/api/v1/submissions/${seg(id)}/cancel`),
  issueReport: (id: string) => request<Report>('POST', `/api/v1/submissions/${seg(id)}/reports`),
  reports: (id: string, cursor: string | undefined, signal: AbortSignal) =>
    request<Page<ReportSummary>>('GET', `/api/v1/submissions/${seg(id)}/reports`, {
      query: { limit: 50, cursor },
      signal,
    }),
  report: (id: string, signal?: AbortSignal) =>
    request<Report>('GET', `/api/v1/reports/${seg(id)}`, { signal }),
};

export const benchLinks = {
  csv: (id: string, q: Pick<BoardQuery, 'phase' | 'split' | 'metric'>) =>
    withQuery(`/api/v1/benchmarks/${seg(id)}/leaderboard`, { ...q, format: 'csv' }),
  envelope: (id: string) => `/api/v1/reports/${seg(id)}/envelope`,
  key: '/.well-known/openlab-report-key.json',
};

// The states after which a submission no longer changes by itself.
const ended = ['scored', 'failed', 'cancelled', 'invalid'];

export function submissionEnded(state: string): boolean {
  return ended.includes(state);
}

export type PhaseState = 'upcoming' | 'open' | 'ended';

export function phaseState(p: Phase, now: number): PhaseState {
  if (now < Date.parse(p.starts_at)) return 'upcoming';
  if (now < Date.parse(p.ends_at)) return 'open';
  return 'ended';
}

// The phase the server takes when none is named (Benchmark::FindPhase): the one open now, else
// the last one started, else the first.
export function currentPhase(b: Benchmark, now: number): Phase | undefined {
  let started: Phase | undefined;
  for (const p of b.phases) {
    const s = phaseState(p, now);
    if (s === 'open') return p;
    if (s === 'ended') started = p;
  }
  return started ?? b.phases[0];
}

export function primaryMetric(b: Benchmark): Metric | undefined {
  return b.metrics.find((m) => m.primary) ?? b.metrics[0];
}

// What a report's statement says (docs/validation-reports.md: predicate
// https://openlab.dev/validation-report/v1).
export interface ReportStatement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    benchmark: { id: string; title: string };
    phase: { id: string; name: string };
    datasets: { role: string; name: string; digest: { sha256: string } }[];
    metrics: { name: string; value: number; split: string; direction: string; definition: string }[];
    scoredAt: string;
    issuedAt: string;
    openlabVersion: string;
    centre: { name: string; url: string };
  };
}

export interface ReportEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}
