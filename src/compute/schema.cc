#include "compute/schema.h"

namespace openlab::compute {
namespace {

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

// The job sandbox: each project's Unix identity (its jobs run as this uid and gid when the
// server is root), and how each job was confined.
const char* kV8Sandbox = R"SQL(
CREATE TABLE project_identities (
  project_id TEXT PRIMARY KEY REFERENCES projects(id),
  uid BIGINT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL);
ALTER TABLE jobs ADD COLUMN sandbox TEXT NOT NULL DEFAULT ''
)SQL";

// City scale: every list pages along an index. Jobs by state and by user in id (cursor) order
// (the operator's queue is jobs by state); a project's allocations in id order; allocations by
// expiry, so the hoarding view reads only those still running; charges by time for the usage
// reports; reservations by project and end, and by end.
const char* kV11ListIndexes = R"SQL(
DROP INDEX jobs_by_state;
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_by_user ON jobs(user_id, id);
DROP INDEX allocations_by_project;
CREATE INDEX allocations_by_project ON allocations(project_id, id);
CREATE INDEX allocations_by_expiry ON allocations(expires_at);
CREATE INDEX ledger_by_time ON ledger(kind, at);
CREATE INDEX reservations_by_project ON reservations(project_id, ends_at);
CREATE INDEX reservations_by_end ON reservations(ends_at)
)SQL";

// Hoarding kept incrementally: each allocation's hoard_from (ledger.h HoardFrom), written with
// every change of its balances; the view reads active allocations whose moment has come. Rows
// from before get the earliest moment their lifetime allows (a quarter of the way in), which is
// never later than the true one: they are looked at, and then measured exactly.
const char* kV14HoardFrom = R"SQL(
ALTER TABLE allocations ADD COLUMN hoard_from BIGINT NOT NULL DEFAULT 0;
UPDATE allocations SET hoard_from = starts_at + (expires_at - starts_at) / 4;
DROP INDEX allocations_by_expiry;
CREATE INDEX allocations_by_expiry ON allocations(expires_at, hoard_from)
)SQL";

// The usage roll-up (ledger.h kRollupSpansMs): charges summed per hour and per day, project and
// resource, kept with each charge; filled here from the charges booked before.
const char* kV15UsageRollup = R"SQL(
CREATE TABLE usage_rollup (
  span_ms BIGINT NOT NULL,
  bucket BIGINT NOT NULL,
  project_id TEXT NOT NULL,
  resource TEXT NOT NULL,
  used BIGINT NOT NULL,
  runs BIGINT NOT NULL,
  PRIMARY KEY (span_ms, bucket, project_id, resource));
INSERT INTO usage_rollup (span_ms, bucket, project_id, resource, used, runs)
  SELECT s.span_ms, l.at / s.span_ms * s.span_ms, a.project_id,
         COALESCE(NULLIF(j.resource, ''), a.resource), SUM(l.used_delta), COUNT(*)
  FROM ledger l JOIN allocations a ON a.id = l.allocation_id LEFT JOIN jobs j ON j.id = l.job_id
  CROSS JOIN (SELECT 86400000 AS span_ms UNION ALL SELECT 3600000) s
  WHERE l.kind = 'charge'
  GROUP BY s.span_ms, l.at / s.span_ms * s.span_ms, a.project_id,
           COALESCE(NULLIF(j.resource, ''), a.resource)
)SQL";

}  // namespace

std::vector<store::MigrationPart> Migrations() {
  return {
      {2, 0, "compute allocations and their ledger", std::string(kV2Allocations) + kV2SqliteLedger,
       std::string(kV2Allocations) + kV2PostgresLedger},
      {3, 0, "jobs", kV3Jobs, ""},
      {4, 0, "advance reservations", kV4Reservations, ""},
      {8, 0, "job sandbox: project identities, each job's sandbox", kV8Sandbox, ""},
      {11, 0,
       "list indexes: jobs by state and user, allocations by project and expiry, charges by "
       "time, reservations by project and end",
       kV11ListIndexes, ""},
      {14, 0, "hoarding kept incrementally: when each allocation falls behind an even pace",
       kV14HoardFrom, ""},
      {15, 0, "usage roll-up: charges summed per hour and per day, project and resource",
       kV15UsageRollup, ""},
  };
}

}  // namespace openlab::compute
