#include "store/migrations.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace openlab::store {
namespace {

// Splits a script on ";\n" so each statement runs as one parameterless statement.
std::vector<std::string> SplitStatements(const std::string& script) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < script.size()) {
    size_t end = script.find(";\n", start);
    if (end == std::string::npos) end = script.size();
    std::string stmt = script.substr(start, end - start);
    if (stmt.find_first_not_of(" \n\t") != std::string::npos) out.push_back(stmt);
    start = end + 2;
  }
  return out;
}

const char* kV1Common = R"SQL(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT,
  platform_roles TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE TABLE orgs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  region TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE TABLE org_members (
  org_id TEXT NOT NULL REFERENCES orgs(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, user_id));
CREATE INDEX org_members_by_user ON org_members(user_id);
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (org_id, name));
CREATE TABLE project_members (
  project_id TEXT NOT NULL REFERENCES projects(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, user_id));
CREATE INDEX project_members_by_user ON project_members(user_id);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT);
CREATE INDEX tokens_by_user ON tokens(user_id);
CREATE TABLE sessions (
  secret_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE TABLE audit (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  request_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE idempotency (
  actor TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (actor, idem_key))
)SQL";

// The audit trail is append-only, enforced by the database itself.
const char* kV1SqliteAudit = R"SQL(;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
)SQL";

const char* kV1PostgresAudit = R"SQL(;
CREATE FUNCTION openlab_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = '23000'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION openlab_audit_append_only()
)SQL";

// Compute lending: grants per project and their append-only ledger. The balance columns are a
// running sum of the ledger kept in the same transaction, with CHECKs so no bug and no race
// can take an allocation below zero.
const char* kV2Allocations = R"SQL(
CREATE TABLE allocations (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  resource TEXT NOT NULL,
  granted BIGINT NOT NULL CHECK (granted >= 0),
  available BIGINT NOT NULL CHECK (available >= 0),
  held BIGINT NOT NULL CHECK (held >= 0),
  used BIGINT NOT NULL CHECK (used >= 0),
  starts_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  note TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  version BIGINT NOT NULL);
CREATE INDEX allocations_by_project ON allocations(project_id);
CREATE TABLE ledger (
  id TEXT PRIMARY KEY,
  allocation_id TEXT NOT NULL REFERENCES allocations(id),
  kind TEXT NOT NULL,
  available_delta BIGINT NOT NULL,
  held_delta BIGINT NOT NULL,
  used_delta BIGINT NOT NULL,
  hold_id TEXT,
  job_id TEXT,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at BIGINT NOT NULL);
CREATE INDEX ledger_by_allocation ON ledger(allocation_id, id);
CREATE TABLE holds (
  id TEXT PRIMARY KEY,
  allocation_id TEXT NOT NULL REFERENCES allocations(id),
  job_id TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  settled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL)
)SQL";

const char* kV2SqliteLedger = R"SQL(;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END
)SQL";

const char* kV2PostgresLedger = R"SQL(;
CREATE FUNCTION openlab_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the table % is append-only', TG_TABLE_NAME USING ERRCODE = '23000'; END $$;
CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION openlab_append_only()
)SQL";

const char* kV3Jobs = R"SQL(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  command TEXT NOT NULL,
  script TEXT NOT NULL,
  env TEXT NOT NULL,
  workdir TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  gpu_type TEXT NOT NULL,
  cpus INTEGER NOT NULL,
  memory_bytes BIGINT NOT NULL,
  time_limit_s BIGINT NOT NULL,
  job_class TEXT NOT NULL,
  depends_on TEXT REFERENCES jobs(id),
  array_parent TEXT NOT NULL,
  array_index INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  node TEXT NOT NULL,
  gpu_indices TEXT NOT NULL,
  hold_id TEXT NOT NULL,
  handle TEXT NOT NULL,
  resource TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  charged_s BIGINT NOT NULL);
CREATE INDEX jobs_by_project ON jobs(project_id, id);
CREATE INDEX jobs_by_state ON jobs(state)
)SQL";

// Advance reservations: devices held for one project over a time window.
const char* kV4Reservations = R"SQL(
CREATE TABLE reservations (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  gpus INTEGER NOT NULL CHECK (gpus > 0),
  gpu_type TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  note TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX reservations_by_time ON reservations(gpu_type, ends_at)
)SQL";

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

// The job sandbox: each project's Unix identity (its jobs run as this uid and gid when the
// server is root), and how each job was confined.
const char* kV8Sandbox = R"SQL(
CREATE TABLE project_identities (
  project_id TEXT PRIMARY KEY REFERENCES projects(id),
  uid BIGINT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL);
ALTER TABLE jobs ADD COLUMN sandbox TEXT NOT NULL DEFAULT ''
)SQL";

// '' (the server's --job-network), 'on' or 'off': network for the project's jobs that read no
// restricted data, set by operators.
const char* kV9JobNetwork = R"SQL(
ALTER TABLE projects ADD COLUMN job_network TEXT NOT NULL DEFAULT ''
)SQL";

}  // namespace

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kAll = {
      {1, "tenants, users, projects, tokens, sessions, audit, idempotency",
       std::string(kV1Common) + kV1SqliteAudit, std::string(kV1Common) + kV1PostgresAudit},
      {2, "compute allocations and their ledger", std::string(kV2Allocations) + kV2SqliteLedger,
       std::string(kV2Allocations) + kV2PostgresLedger},
      {3, "jobs", kV3Jobs, ""},
      {4, "advance reservations", kV4Reservations, ""},
      {5, "data commons: datasets, versions, chunks, uploads, search",
       std::string(kV5Data) + kV5SqliteSearch, std::string(kV5Data) + kV5PostgresSearch},
      {6, "data in jobs: pinned inputs, export requests", kV6JobData, ""},
      {7, "dataset names unique per owner (access domains of their own for restricted data)",
       kV7OwnerNames, ""},
      {8, "job sandbox: project identities, each job's sandbox", kV8Sandbox, ""},
      {9, "job network per project", kV9JobNetwork, ""},
  };
  return kAll;
}

StatusOr<int> SchemaVersion(Database& db) {
  int version = 0;
  Status s = db.Write([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                            "KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                        .status());
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    version = static_cast<int>(rows[0].Int(0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return version;
}

Status Migrate(Database& db, const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return FailedPrecondition(fmt::format(
        "the database schema is version {} but this openlab knows only up to version {}; "
        "run a newer openlab against this database",
        current, latest));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    const std::string& script = (db.dialect() == Dialect::kPostgres && !m.postgres_sql.empty())
                                    ? m.postgres_sql
                                    : m.sqlite_sql;
    Status s = db.Write([&](Tx& tx) -> Status {
      if (tx.dialect() == Dialect::kPostgres) {
        // Two servers starting together: one migrates, the other waits and then sees it done.
        RETURN_IF_ERROR(tx.Query("SELECT pg_advisory_xact_lock(7243011)").status());
      }
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query("SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                                {int64_t{m.version}}));
      if (rows[0].Int(0) > 0) return Status::Ok();
      for (const std::string& stmt : SplitStatements(script)) {
        RETURN_IF_ERROR(tx.Exec(stmt).status());
      }
      return tx
          .Exec(
              "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, "
              "$3)",
              {int64_t{m.version}, m.description, Clock::Real()->NowMs()})
          .status();
    });
    if (!s.ok()) {
      return Status(s.code(), fmt::format("migration {} ({}) failed: {}", m.version, m.description,
                                          s.message()));
    }
  }
  return Status::Ok();
}

}  // namespace openlab::store
