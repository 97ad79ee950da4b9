// The workspace's calls to the API, typed from the OpenAPI document (schema.d.ts), through the
// console's one client (same origin, the session cookie, the CSRF token on writes, every failure
// an ApiError). The live log is read here too: its answer is text with headers, not JSON.
import { request, send, seg } from '../../api/client';
import type { Dataset, Job, NewToken, Page, Project, ProjectMember, Token } from '../../api/client';
import type { components, operations } from '../../api/schema';

type S = components['schemas'];
export type SubmitBody = operations['jobs.submit']['requestBody']['content']['application/json'];
export type NewTokenBody = operations['tokens.create']['requestBody']['content']['application/json'];

// A page of a list: the first (no cursor) or the one after `cursor`.
type Paged<T> = (cursor: string | undefined, signal: AbortSignal) => Promise<Page<T>>;

export const ws = {
  projects: ((cursor, signal) =>
    request('GET', '/api/v1/projects', { query: { limit: 50, cursor }, signal })) satisfies Paged<Project>,
  project: (id: string, signal?: AbortSignal) =>
    request<Project>('GET', `/api/v1/projects/${seg(id)}`, { signal }),
  members: (id: string): Paged<ProjectMember> => (cursor, signal) =>
    request('GET', `/api/v1/projects/${seg(id)}/members`, { query: { limit: 100, cursor }, signal }),
  allocations: (id: string, signal?: AbortSignal) =>
    request<S['AllocationPage']>('GET', `/api/v1/projects/${seg(id)}/allocations`, { signal }),
  ledger: (id: string, cursor: string | undefined, signal?: AbortSignal) =>
    request<S['LedgerEntryPage']>('GET', `/api/v1/allocations/${seg(id)}/ledger`, {
      query: { limit: 500, cursor },
      signal,
    }),
  jobs: (projectId: string): Paged<Job> => (cursor, signal) =>
    request('GET', '/api/v1/jobs', {
      query: { project_id: projectId, order: 'newest', limit: 25, cursor },
      signal,
    }),
  job: (id: string, signal?: AbortSignal) => request<Job>('GET', `/api/v1/jobs/${seg(id)}`, { signal }),
  submit: (body: SubmitBody) => request<Job>('POST', '/api/v1/jobs', { body }),
  cancel: (id: string) => request<Job>('POST', `/api/v1/jobs/${seg(id)}/cancel`),
  exports: (jobId: string, signal?: AbortSignal) =>
    request<S['ExportRequestPage']>('GET', `/api/v1/jobs/${seg(jobId)}/exports`, { signal }),
  datasets: (projectId: string): Paged<Dataset> => (cursor, signal) =>
    request('GET', '/api/v1/datasets', { query: { project_id: projectId, limit: 50, cursor }, signal }),
  tokens: ((cursor, signal) =>
    request('GET', '/api/v1/tokens', { query: { limit: 100, cursor }, signal })) satisfies Paged<Token>,
  createToken: (body: NewTokenBody) => request<NewToken>('POST', '/api/v1/tokens', { body }),
  revokeToken: (id: string) => request<unknown>('DELETE', `/api/v1/tokens/${seg(id)}`),
};

// The states after which a job's output no longer grows.
export const endedStates: readonly string[] = [
  'completed',
  'failed',
  'cancelled',
  'timeout',
  'node_fail',
  'preempted',
];

export function hasEnded(state: string): boolean {
  return endedStates.includes(state);
}

export type LogStream = 'stdout' | 'stderr';

export interface LogSlice {
  bytes: Uint8Array;
  next: number;   // X-Log-Offset: where to continue
  state: string;  // X-Job-State
}

// One read of a job's output from `offset`; the server holds it up to `wait` seconds until there
// is something new or the job has ended (a server that does not know `wait` answers at once).
export async function readLog(
  id: string,
  stream: LogStream,
  offset: number,
  wait: number,
  signal: AbortSignal,
): Promise<LogSlice> {
  const url = `/api/v1/jobs/${seg(id)}/logs?stream=${stream}&offset=${offset}&wait=${wait}`;
  const res = await send(url, { signal, headers: { Accept: 'text/plain' } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const header = Number(res.headers.get('x-log-offset'));
  return {
    bytes,
    next: Number.isFinite(header) && header >= offset ? header : offset + bytes.length,
    state: res.headers.get('x-job-state') ?? '',
  };
}
