#include "data/schema.h"

namespace openlab::data {
namespace {

// The data commons: datasets, their immutable versions (manifests), the chunk index of each
// access domain, resumable uploads, access requests and personal-data flags.
const char* kV5Data = R"SQL(
CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  project_id TEXT REFERENCES projects(id),
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  license TEXT NOT NULL,
  tags TEXT NOT NULL,
  datasheet TEXT NOT NULL,
  access_level TEXT NOT NULL,
  listed INTEGER NOT NULL,
  accepts_contributions INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  UNIQUE (domain, name));
CREATE TABLE dataset_consortium (
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  org_id TEXT NOT NULL REFERENCES orgs(id),
  PRIMARY KEY (dataset_id, org_id));
CREATE TABLE dataset_versions (
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  parent TEXT NOT NULL,
  message TEXT NOT NULL,
  file_count BIGINT NOT NULL,
  total_bytes BIGINT NOT NULL,
  new_bytes BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  contributor TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (dataset_id, id),
  UNIQUE (dataset_id, seq));
CREATE TABLE dataset_tags (
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  name TEXT NOT NULL,
  version_id TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (dataset_id, name));
CREATE TABLE version_files (
  dataset_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  segments BIGINT NOT NULL,
  PRIMARY KEY (dataset_id, version_id, path));
CREATE TABLE version_segments (
  dataset_id TEXT NOT NULL,
  version_id TEXT NOT NULL,
  path TEXT NOT NULL,
  seq BIGINT NOT NULL,
  chunks TEXT NOT NULL,
  PRIMARY KEY (dataset_id, version_id, path, seq));
CREATE TABLE data_domains (
  domain TEXT PRIMARY KEY,
  stored_bytes BIGINT NOT NULL CHECK (stored_bytes >= 0),
  raw_bytes BIGINT NOT NULL CHECK (raw_bytes >= 0),
  chunk_count BIGINT NOT NULL CHECK (chunk_count >= 0),
  quota_bytes BIGINT NOT NULL);
CREATE TABLE chunks (
  domain TEXT NOT NULL,
  id TEXT NOT NULL,
  pack BIGINT NOT NULL,
  pack_offset BIGINT NOT NULL,
  stored_len BIGINT NOT NULL,
  raw_len BIGINT NOT NULL,
  codec INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (domain, id));
CREATE INDEX chunks_by_pack ON chunks(domain, pack);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  user_id TEXT NOT NULL,
  contribution_id TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  version_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE INDEX uploads_by_dataset ON uploads(dataset_id, state);
CREATE TABLE upload_chunks (
  upload_id TEXT NOT NULL,
  chunk_id TEXT NOT NULL,
  PRIMARY KEY (upload_id, chunk_id));
CREATE TABLE upload_files (
  upload_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  segments BIGINT NOT NULL,
  PRIMARY KEY (upload_id, path));
CREATE TABLE upload_segments (
  upload_id TEXT NOT NULL,
  path TEXT NOT NULL,
  seq BIGINT NOT NULL,
  chunks TEXT NOT NULL,
  PRIMARY KEY (upload_id, path, seq));
CREATE TABLE access_requests (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  user_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  analysts TEXT NOT NULL,
  days BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE INDEX access_requests_by_dataset ON access_requests(dataset_id, state);
CREATE TABLE access_grants (
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  user_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (dataset_id, user_id, request_id));
CREATE TABLE contributions (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  user_id TEXT NOT NULL,
  upload_id TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  base_version TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  version_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL);
CREATE INDEX contributions_by_dataset ON contributions(dataset_id, state);
CREATE TABLE file_flags (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  sha256 TEXT NOT NULL,
  path TEXT NOT NULL,
  reason TEXT NOT NULL,
  flagged_by TEXT NOT NULL,
  state TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decision TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL);
CREATE INDEX file_flags_by_dataset ON file_flags(dataset_id, state)
)SQL";

// Full-text search over a dataset's name, title, description, tags and datasheet: an FTS5
// index kept in step by triggers on SQLite; an expression GIN index on PostgreSQL. (Statements
// inside a trigger stay on one line: the script is split at ";" + newline.)
const char* kV5SqliteSearch = R"SQL(;
CREATE VIRTUAL TABLE datasets_fts USING fts5(name, title, description, tags, datasheet, content='datasets', content_rowid='rowid');
CREATE TRIGGER datasets_fts_insert AFTER INSERT ON datasets BEGIN INSERT INTO datasets_fts(rowid, name, title, description, tags, datasheet) VALUES (new.rowid, new.name, new.title, new.description, new.tags, new.datasheet); END;
CREATE TRIGGER datasets_fts_delete AFTER DELETE ON datasets BEGIN INSERT INTO datasets_fts(datasets_fts, rowid, name, title, description, tags, datasheet) VALUES ('delete', old.rowid, old.name, old.title, old.description, old.tags, old.datasheet); END;
CREATE TRIGGER datasets_fts_update AFTER UPDATE ON datasets BEGIN INSERT INTO datasets_fts(datasets_fts, rowid, name, title, description, tags, datasheet) VALUES ('delete', old.rowid, old.name, old.title, old.description, old.tags, old.datasheet); INSERT INTO datasets_fts(rowid, name, title, description, tags, datasheet) VALUES (new.rowid, new.name, new.title, new.description, new.tags, new.datasheet); END
)SQL";

const char* kV5PostgresSearch = R"SQL(;
CREATE INDEX datasets_search ON datasets USING GIN (to_tsvector('simple', name || ' ' || title || ' ' || description || ' ' || replace(tags, ',', ' ') || ' ' || datasheet))
)SQL";

// Data in jobs: the pinned dataset versions a job reads, and the export requests through which
// the outputs of a sealed job (one that read another owner's restricted data) leave.
const char* kV6JobData = R"SQL(
CREATE TABLE job_inputs (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  version_id TEXT NOT NULL,
  access_level TEXT NOT NULL,
  domain TEXT NOT NULL,
  sealed INTEGER NOT NULL,
  PRIMARY KEY (job_id, name));
CREATE INDEX job_inputs_by_dataset ON job_inputs(dataset_id);
CREATE TABLE exports (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  user_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL);
CREATE INDEX exports_by_job ON exports(job_id);
CREATE TABLE export_files (
  export_id TEXT NOT NULL REFERENCES exports(id),
  seq BIGINT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (export_id, seq))
)SQL";

// Restricted and hidden datasets get access domains of their own (their chunks are never
// deduplicated with the owner's downloadable data), so a domain no longer stands for an owner:
// a dataset's name is unique per owner. Names were unique per owner domain until now, which was
// one per owner, so no existing row conflicts. Existing datasets keep their domains.
const char* kV7OwnerNames = R"SQL(
CREATE UNIQUE INDEX datasets_owner_name ON datasets(org_id, COALESCE(project_id, ''), name)
)SQL";

// City scale: every list pages along an index. Datasets by organisation, by project, by listing
// and by access level in id (cursor) order (the catalogue a user sees is read as a page of each); a
// job's exports in id order; the datasets shared with an organisation's consortium, by
// organisation; datasets by their owner's lowercased id (the owner's storage use); a dataset's
// access requests, contributions and flags newest first, in id order.
const char* kV12ListIndexes = R"SQL(
CREATE INDEX datasets_by_org ON datasets(org_id, id);
CREATE INDEX datasets_by_project ON datasets(project_id, id);
CREATE INDEX datasets_by_listing ON datasets(listed, id);
CREATE INDEX datasets_by_level ON datasets(access_level, id);
DROP INDEX exports_by_job;
CREATE INDEX exports_by_job ON exports(job_id, id);
CREATE INDEX dataset_consortium_by_org ON dataset_consortium(org_id, dataset_id);
CREATE INDEX datasets_by_owner ON datasets(LOWER(COALESCE(project_id, org_id)));
CREATE INDEX access_requests_by_dataset_id ON access_requests(dataset_id, id);
CREATE INDEX contributions_by_dataset_id ON contributions(dataset_id, id);
CREATE INDEX file_flags_by_dataset_id ON file_flags(dataset_id, id)
)SQL";

// A steward's review queue reads what waits (a pending request, a submitted contribution, a
// quarantined file, a pending export) newest first, keeping those of the datasets they answer for.
const char* kV16WaitingByState = R"SQL(
CREATE INDEX access_requests_by_state ON access_requests(state, id);
CREATE INDEX contributions_by_state ON contributions(state, id);
CREATE INDEX file_flags_by_state ON file_flags(state, id);
CREATE INDEX exports_by_state ON exports(state, id)
)SQL";

// The catalogue filters by licence.
const char* kV18DatasetsByLicense = R"SQL(
CREATE INDEX datasets_by_license ON datasets(license, id)
)SQL";

}  // namespace

std::vector<store::MigrationPart> Migrations() {
  return {
      {5, 0, "data commons: datasets, versions, chunks, uploads, search",
       std::string(kV5Data) + kV5SqliteSearch, std::string(kV5Data) + kV5PostgresSearch},
      {6, 0, "data in jobs: pinned inputs, export requests", kV6JobData, ""},
      {7, 0, "dataset names unique per owner (access domains of their own for restricted data)",
       kV7OwnerNames, ""},
      {12, 0,
       "list indexes: datasets by organisation, project, listing, level and owner; exports by "
       "job; consortia by organisation; a dataset's requests, contributions and flags by id",
       kV12ListIndexes, ""},
      {16, 0, "what waits for review, by state in id order (the stewards' queue)",
       kV16WaitingByState, ""},
      {18, 0, "datasets by licence (the catalogue's filter)", kV18DatasetsByLicense, ""},
  };
}

}  // namespace openlab::data
