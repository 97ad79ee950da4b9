#include "validation/schema.h"

namespace openlab::validation {
namespace {

// Benchmarks (owned by a project), their phases (each naming its participants' input version
// and its hidden ground-truth version), the organisations a benchmark is listed for, its
// invitations, its teams; submissions with their state history and the lease a scorer holds;
// the leaderboard's counted entry per entrant (a team, or a participant alone) and phase; the
// signed validation reports.
const char* kV19Validation = R"SQL(
CREATE TABLE benchmarks (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  task_type TEXT NOT NULL,
  visibility TEXT NOT NULL,
  metrics TEXT NOT NULL,
  rules TEXT NOT NULL,
  public_permille BIGINT NOT NULL,
  split_key TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL);
CREATE INDEX benchmarks_by_project ON benchmarks(project_id, id);
CREATE INDEX benchmarks_by_visibility ON benchmarks(visibility, id);
CREATE TABLE benchmark_orgs (
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  org_id TEXT NOT NULL REFERENCES orgs(id),
  PRIMARY KEY (benchmark_id, org_id));
CREATE INDEX benchmark_orgs_by_org ON benchmark_orgs(org_id, benchmark_id);
CREATE TABLE benchmark_invites (
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (benchmark_id, user_id));
CREATE INDEX benchmark_invites_by_user ON benchmark_invites(user_id, benchmark_id);
CREATE TABLE benchmark_phases (
  id TEXT PRIMARY KEY,
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  position BIGINT NOT NULL,
  name TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  input_dataset_id TEXT NOT NULL,
  input_version_id TEXT NOT NULL,
  truth_dataset_id TEXT NOT NULL,
  truth_version_id TEXT NOT NULL,
  truth_file TEXT NOT NULL,
  UNIQUE (benchmark_id, name),
  UNIQUE (benchmark_id, position));
CREATE TABLE benchmark_teams (
  id TEXT PRIMARY KEY,
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (benchmark_id, name));
CREATE TABLE benchmark_team_members (
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  team_id TEXT NOT NULL REFERENCES benchmark_teams(id),
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (benchmark_id, user_id));
CREATE INDEX benchmark_team_members_by_team ON benchmark_team_members(team_id, user_id);
CREATE TABLE submissions (
  id TEXT PRIMARY KEY,
  benchmark_id TEXT NOT NULL REFERENCES benchmarks(id),
  phase_id TEXT NOT NULL REFERENCES benchmark_phases(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  team_id TEXT NOT NULL,
  entrant TEXT NOT NULL,
  kind TEXT NOT NULL,
  format TEXT NOT NULL,
  description TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  rows BIGINT NOT NULL,
  state TEXT NOT NULL,
  counted BIGINT NOT NULL,
  reason TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  lease_owner TEXT NOT NULL,
  lease_expires_at BIGINT NOT NULL,
  truth_version_id TEXT NOT NULL,
  scores_public TEXT NOT NULL,
  scores_private TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  scored_at BIGINT NOT NULL);
CREATE INDEX submissions_by_phase ON submissions(phase_id, id);
CREATE INDEX submissions_by_entrant ON submissions(phase_id, entrant, id);
CREATE INDEX submissions_by_user ON submissions(user_id, id);
CREATE INDEX submissions_by_state ON submissions(state, lease_expires_at, id);
CREATE TABLE submission_events (
  submission_id TEXT NOT NULL REFERENCES submissions(id),
  seq BIGINT NOT NULL,
  state TEXT NOT NULL,
  at BIGINT NOT NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (submission_id, seq));
CREATE TABLE leaderboard_entries (
  phase_id TEXT NOT NULL REFERENCES benchmark_phases(id),
  entrant TEXT NOT NULL,
  submission_id TEXT NOT NULL REFERENCES submissions(id),
  user_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  public_primary DOUBLE PRECISION NOT NULL,
  private_primary DOUBLE PRECISION NOT NULL,
  scores_public TEXT NOT NULL,
  scores_private TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  PRIMARY KEY (phase_id, entrant));
CREATE INDEX leaderboard_by_public ON leaderboard_entries(phase_id, public_primary, entrant);
CREATE INDEX leaderboard_by_private ON leaderboard_entries(phase_id, private_primary, entrant);
CREATE TABLE validation_reports (
  id TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL REFERENCES submissions(id),
  user_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  envelope TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX validation_reports_by_submission ON validation_reports(submission_id, id)
)SQL";

// A phase of a benchmark scored by the organiser's own program (task type "custom") names the
// dataset version that holds the program (its `metadata` file at the root).
const char* kV20ScoringPrograms = R"SQL(
ALTER TABLE benchmark_phases ADD COLUMN program_dataset_id TEXT NOT NULL DEFAULT '';
ALTER TABLE benchmark_phases ADD COLUMN program_version_id TEXT NOT NULL DEFAULT ''
)SQL";

// A code run's charge on the compute ledger (run_charges.h): the hold of the run in progress and
// when it started.
const char* kV22RunCharges = R"SQL(
ALTER TABLE submissions ADD COLUMN hold_id TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN run_started_at BIGINT NOT NULL DEFAULT 0
)SQL";

// Every metric of each counted entry, on each split, one row apiece, so that a leaderboard ranked
// by any metric (not only the primary, which leaderboard_entries indexes) is read along an index:
// value is the entry's score on the split, the private one falling back to the public one as the
// entry's private_primary does. Kept in step with leaderboard_entries by the use cases; filled
// here from the entries a database already holds. leaderboard_sizes counts each phase's entries,
// so that a page need not count them.
const char* kV21LeaderboardScores = R"SQL(
CREATE TABLE leaderboard_scores (
  phase_id TEXT NOT NULL,
  entrant TEXT NOT NULL,
  split TEXT NOT NULL,
  metric TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (phase_id, entrant, split, metric),
  FOREIGN KEY (phase_id, entrant) REFERENCES leaderboard_entries(phase_id, entrant));
CREATE INDEX leaderboard_scores_by_value ON leaderboard_scores(phase_id, split, metric, value,
  entrant);
INSERT INTO leaderboard_scores (phase_id, entrant, split, metric, value)
  SELECT e.phase_id, e.entrant, 'public', p.key, p.value
  FROM leaderboard_entries e, json_each(e.scores_public) p;
INSERT INTO leaderboard_scores (phase_id, entrant, split, metric, value)
  SELECT e.phase_id, e.entrant, 'private', p.key,
    COALESCE((SELECT v.value FROM json_each(e.scores_private) v WHERE v.key = p.key), p.value)
  FROM leaderboard_entries e, json_each(e.scores_public) p;
CREATE TABLE leaderboard_sizes (
  phase_id TEXT PRIMARY KEY REFERENCES benchmark_phases(id),
  entries BIGINT NOT NULL);
INSERT INTO leaderboard_sizes (phase_id, entries)
  SELECT phase_id, COUNT(*) FROM leaderboard_entries GROUP BY phase_id
)SQL";

// The same for PostgreSQL, whose scores (JSON in TEXT columns) are read with jsonb_each_text.
const char* kV21LeaderboardScoresPg = R"SQL(
CREATE TABLE leaderboard_scores (
  phase_id TEXT NOT NULL,
  entrant TEXT NOT NULL,
  split TEXT NOT NULL,
  metric TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (phase_id, entrant, split, metric),
  FOREIGN KEY (phase_id, entrant) REFERENCES leaderboard_entries(phase_id, entrant));
CREATE INDEX leaderboard_scores_by_value ON leaderboard_scores(phase_id, split, metric, value,
  entrant);
INSERT INTO leaderboard_scores (phase_id, entrant, split, metric, value)
  SELECT e.phase_id, e.entrant, 'public', p.key, p.value::DOUBLE PRECISION
  FROM leaderboard_entries e CROSS JOIN LATERAL jsonb_each_text(e.scores_public::jsonb) p;
INSERT INTO leaderboard_scores (phase_id, entrant, split, metric, value)
  SELECT e.phase_id, e.entrant, 'private', p.key,
    COALESCE(e.scores_private::jsonb ->> p.key, p.value)::DOUBLE PRECISION
  FROM leaderboard_entries e CROSS JOIN LATERAL jsonb_each_text(e.scores_public::jsonb) p;
CREATE TABLE leaderboard_sizes (
  phase_id TEXT PRIMARY KEY REFERENCES benchmark_phases(id),
  entries BIGINT NOT NULL);
INSERT INTO leaderboard_sizes (phase_id, entries)
  SELECT phase_id, COUNT(*) FROM leaderboard_entries GROUP BY phase_id
)SQL";

// A phase's ingestion program (Codabench's layout), which runs code submissions.
const char* kV23IngestionPrograms = R"SQL(
ALTER TABLE benchmark_phases ADD COLUMN ingestion_dataset_id TEXT NOT NULL DEFAULT '';
ALTER TABLE benchmark_phases ADD COLUMN ingestion_version_id TEXT NOT NULL DEFAULT ''
)SQL";

// When a run's scorer was last heard from (its start, then each heartbeat): a run whose server
// died is charged up to then.
const char* kV24RunSeen = R"SQL(
ALTER TABLE submissions ADD COLUMN run_seen_at BIGINT NOT NULL DEFAULT 0
)SQL";

}  // namespace

std::vector<store::MigrationPart> Migrations() {
  return {
      {19, 0,
       "validation: benchmarks, phases, teams, invitations, submissions and their history, "
       "leaderboard entries, validation reports",
       kV19Validation, ""},
      {20, 0, "validation: phases scored by the organiser's program", kV20ScoringPrograms, ""},
      {21, 0, "validation: leaderboard scores per metric (any metric ranked along an index)",
       kV21LeaderboardScores, kV21LeaderboardScoresPg},
      {22, 0, "validation: code runs charged to a compute allocation", kV22RunCharges, ""},
      {23, 0, "validation: phases' ingestion programs", kV23IngestionPrograms, ""},
      {24, 0, "validation: a run's last heartbeat", kV24RunSeen, ""},
  };
}

}  // namespace openlab::validation
