#include "tenants/schema.h"

namespace openlab::tenants {
namespace {

// Version 1 was written before capabilities owned their tables: it creates the tenants' tables,
// then auth's (tokens, sessions: auth/schema.cc), then the audit trail and idempotency records,
// as one script. Its SQL must stay byte for byte what databases already ran, so it is kept in
// three parts joined in order at run time (store::AssembleMigrations) rather than re-ordered:
// parts 0 and 2 here, part 1 in auth. Its description is this, the first part's.
const char* kV1Tenants = R"SQL(
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
)SQL";

const char* kV1AuditIdempotency = R"SQL(CREATE TABLE audit (
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

// '' (the server's --job-network), 'on' or 'off': network for the project's jobs that read no
// restricted data, set by operators.
const char* kV9JobNetwork = R"SQL(
ALTER TABLE projects ADD COLUMN job_network TEXT NOT NULL DEFAULT ''
)SQL";

// City scale: every list pages along an index. The audit trail by actor, object and action,
// each in id (cursor) order; an organisation's projects in id order; a user's memberships with
// the project or organisation in the index itself, so the membership subqueries read only it.
const char* kV10ListIndexes = R"SQL(
CREATE INDEX audit_by_actor ON audit(actor, id);
CREATE INDEX audit_by_object ON audit(object, id);
CREATE INDEX audit_by_action ON audit(action, id);
CREATE INDEX projects_by_org ON projects(org_id, id);
DROP INDEX project_members_by_user;
CREATE INDEX project_members_by_user ON project_members(user_id, project_id);
DROP INDEX org_members_by_user;
CREATE INDEX org_members_by_user ON org_members(user_id, org_id, role)
)SQL";

// The centre's public page counts the active projects.
const char* kV17ProjectsByStatus = R"SQL(
CREATE INDEX projects_by_status ON projects(status, id)
)SQL";

}  // namespace

std::vector<store::MigrationPart> Migrations() {
  return {
      {1, 0, "tenants, users, projects, tokens, sessions, audit, idempotency", kV1Tenants, ""},
      {1, 2, "", std::string(kV1AuditIdempotency) + kV1SqliteAudit,
       std::string(kV1AuditIdempotency) + kV1PostgresAudit},
      {9, 0, "job network per project", kV9JobNetwork, ""},
      {10, 0,
       "list indexes: audit by actor, object and action; projects by organisation; "
       "memberships by user",
       kV10ListIndexes, ""},
      {17, 0, "projects by status (the centre's public figures)", kV17ProjectsByStatus, ""},
  };
}

}  // namespace openlab::tenants
