// The API calls of the operator and review pages, typed from the OpenAPI document
// (schema.d.ts). They go through client.ts's request, as the public pages' calls do: the session
// cookie, the CSRF token on every write, every failure an ApiError a person can read.
import { request } from '../../api/client';
import type { components, operations } from '../../api/schema';

type S = components['schemas'];
export type Job = S['Job'];
export type Org = S['Org'];
export type User = S['User'];
export type Project = S['Project'];
export type AuditEntry = S['AuditEntry'];
export type UsageRow = S['UsageRow'];
export type UsageReport = S['UsageReport'];
export type UtilisationReport = S['UtilisationReport'];
export type HoardingRow = S['HoardingRow'];
export type AccessRequest = S['AccessRequest'];
export type Contribution = S['Contribution'];
export type FileFlag = S['FileFlag'];
export type ExportRequest = S['ExportRequest'];
export type Dataset = S['Dataset'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

// GET /api/v1/review/queue: the pending items the caller may decide.
export type ReviewQueue = S['ReviewQueue'];

type Query<Id extends keyof operations> = NonNullable<operations[Id]['parameters']['query']>;
type Params = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Params): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

const seg = encodeURIComponent;

const v1 = '/api/v1';
type Sig = AbortSignal | undefined;

export const opsApi = {
  jobs: (query: Query<'jobs.list'>, signal?: Sig) =>
    request<Page<Job>>('GET', `${v1}/jobs`, { query, signal }),
  utilisation: (query: Query<'ops.utilisation'>, signal?: Sig) =>
    request<UtilisationReport>('GET', `${v1}/ops/utilisation`, { query, signal }),
  usage: (query: Query<'ops.usage'>, signal?: Sig) =>
    request<UsageReport>('GET', `${v1}/ops/usage`, { query, signal }),
  hoarding: (signal?: Sig) => request<Page<HoardingRow>>('GET', `${v1}/ops/hoarding`, { signal }),
  orgs: (query: Query<'orgs.list'>, signal?: Sig) =>
    request<Page<Org>>('GET', `${v1}/orgs`, { query, signal }),
  org: (id: string, signal?: Sig) => request<Org>('GET', `${v1}/orgs/${seg(id)}`, { signal }),
  createOrg: (body: operations['orgs.create']['requestBody']['content']['application/json']) =>
    request<Org>('POST', `${v1}/orgs`, { body }),
  users: (query: Query<'users.list'>, signal?: Sig) =>
    request<Page<User>>('GET', `${v1}/users`, { query, signal }),
  user: (idOrName: string, signal?: Sig) =>
    request<User>('GET', `${v1}/users/${seg(idOrName)}`, { signal }),
  projects: (query: Query<'projects.list'>, signal?: Sig) =>
    request<Page<Project>>('GET', `${v1}/projects`, { query, signal }),
  project: (id: string, signal?: Sig) =>
    request<Project>('GET', `${v1}/projects/${seg(id)}`, { signal }),
  createProject: (
    body: operations['projects.create']['requestBody']['content']['application/json'],
  ) => request<Project>('POST', `${v1}/projects`, { body }),
  audit: (query: Query<'audit.read'>, signal?: Sig) =>
    request<Page<AuditEntry>>('GET', `${v1}/audit`, { query, signal }),
};

export const reviewApi = {
  queue: (signal?: Sig) => request<ReviewQueue>('GET', `${v1}/review/queue`, { signal }),
  dataset: (id: string, signal?: Sig) =>
    request<Dataset>('GET', `${v1}/datasets/${seg(id)}`, { signal }),
  accessRequest: (id: string, signal?: Sig) =>
    request<AccessRequest>('GET', `${v1}/access-requests/${seg(id)}`, { signal }),
  exportRequest: (id: string, signal?: Sig) =>
    request<ExportRequest>('GET', `${v1}/exports/${seg(id)}`, { signal }),
  contribution: (id: string, signal?: Sig) =>
    request<Contribution>('GET', `${v1}/contributions/${seg(id)}`, { signal }),
  // The approve route reads a reason (the document names none) but does not keep it yet.
  approveAccess: (id: string, reason: string) =>
    request<AccessRequest>('POST', `${v1}/access-requests/${seg(id)}/approve`, {
      body: reason ? { reason } : {},
    }),
  refuseAccess: (id: string, reason: string) =>
    request<AccessRequest>('POST', `${v1}/access-requests/${seg(id)}/refuse`, { body: { reason } }),
  acceptContribution: (id: string, message: string) =>
    request<Contribution>('POST', `${v1}/contributions/${seg(id)}/accept`, { body: { message } }),
  rejectContribution: (id: string, reason: string) =>
    request<Contribution>('POST', `${v1}/contributions/${seg(id)}/reject`, { body: { reason } }),
  decideFlag: (id: string, decision: 'clear' | 'confirm', reason: string) =>
    request<FileFlag>('POST', `${v1}/flags/${seg(id)}/decide`, { body: { decision, reason } }),
  approveExport: (id: string, reason: string) =>
    request<ExportRequest>('POST', `${v1}/exports/${seg(id)}/approve`, { body: { reason } }),
  refuseExport: (id: string, reason: string) =>
    request<ExportRequest>('POST', `${v1}/exports/${seg(id)}/refuse`, { body: { reason } }),
};

// The audit trail as JSON lines, for the browser to download (the same filters).
export function auditExportLink(query: Params): string {
  return withQuery(`${v1}/audit`, { ...query, format: 'jsonl' });
}
