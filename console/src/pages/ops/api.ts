// The API calls of the operator and review pages, typed from the OpenAPI document
// (schema.d.ts). They go through client.ts's request, as the public pages' calls do: the session
// cookie, the CSRF token on every write, every failure an ApiError a person can read.
import { request, seg, withQuery, type Params, type Query } from '../../api/client';
import type {
  AccessRequest,
  AuditEntry,
  Contribution,
  Dataset,
  ExportRequest,
  FileFlag,
  HoardingRow,
  Job,
  Org,
  Page,
  Project,
  ReviewQueue,
  UsageReport,
  User,
  UtilisationReport,
} from '../../api/client';
import type { operations } from '../../api/schema';

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
