// Validation: benchmarks with hidden ground truth, the submissions scored against it, and the
// leaderboards they make. Plain functions over a transaction: they validate, decide the rules
// (phases open and close, quotas, who is an entrant, which submission counts) and return
// specific errors; they know nothing of HTTP or of who asks (the caller passes in what the
// policy answered). Scoring itself is in scorer.h (pure) and service.h (the worker that holds a
// lease on each submission it scores).
//
// Words:
//   - an *organiser* is a member of the benchmark's project; a *participant* is a user the
//     benchmark's visibility admits; an *entrant* is what a leaderboard ranks: a participant's
//     team on this benchmark, or the participant alone (the team's id, or the user's id).
//   - a phase's test rows are split once, by a secret key of the benchmark, into a public part
//     (ranked on the public leaderboard while the phase runs) and a private part (whose ranking
//     is shown to organisers only, and to everyone once the phase has ended).
//   - a submission *counts* against its entrant's quota while it is queued, running, scoring or
//     scored. Cancelled, invalid and failed submissions never count (a failure is the centre's
//     problem or the code's crash, and neither is a scored attempt at the hidden labels).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/db.h"

namespace openlab::validation {

// "custom": scored by the organiser's own program (Codabench's layout: runner/
// codabench_program.h), whose scores file's keys are the benchmark's metrics.
inline constexpr const char* kTaskTypes[] = {"binary",  "multiclass",  "regression", "multilabel",
                                             "ranking", "forecasting", "detection",  "custom"};
inline constexpr const char* kVisibilities[] = {"public", "registered", "organisations", "invite"};
// A submission's states. Terminal: scored, failed, cancelled, invalid.
inline constexpr const char* kSubmissionStates[] = {"queued", "scoring",   "scored",
                                                    "failed", "cancelled", "invalid"};
bool IsTerminalSubmissionState(const std::string& state);

struct MetricChoice {
  std::string name;              // a metric the task type offers (scorer.h: MetricsFor)
  bool primary = false;          // exactly one is: it ranks the leaderboard
  bool higher_is_better = true;  // from the metric's definition (custom tasks: the organiser's)
};

struct Rules {
  int64_t max_per_day = 5;       // per entrant and phase, in the UTC day of submission
  int64_t max_total = 100;       // per entrant and phase
  int64_t max_bytes = 64 << 20;  // a predictions file
  std::string counts = "best";   // which scored submission ranks: "best" (on the public split)
                                 // or "last"
  // Code submissions: taken at all, and each run's limits (in the sandbox, no network).
  bool code = false;
  int64_t max_runtime_s = 600;
  int64_t max_memory_mb = 4096;
  // Who pays for a code submission's run (one CPU core for its wall time; run_charges.h):
  // "organiser", the benchmark's project's CPU allocation; or "centre", no project (set by an
  // operator only: a centre-run challenge, a class).
  std::string code_charge = "organiser";
};

struct Phase {
  std::string id, benchmark_id, name;
  int64_t position = 0;
  int64_t starts_at = 0, ends_at = 0;  // ms; submissions are taken in [starts_at, ends_at)
  // What participants may read (any access level that admits them) and the hidden ground truth.
  std::string input_dataset_id, input_version_id;
  std::string truth_dataset_id, truth_version_id;
  std::string truth_file = "truth.csv";  // the file of the truth version that holds the labels
  // Task type "custom": the version holding the scoring program (its `metadata` at the root);
  // the program reads the whole truth version as input/ref and the submission as input/res.
  std::string program_dataset_id, program_version_id;
  // Optional, for code submissions: the version holding an ingestion program (Codabench's
  // layout, its `metadata` at the root) that runs the participant's code instead of its entry
  // command: it sees the phase's inputs at $input, the code at $submission_program, and writes
  // the predictions to $output.
  std::string ingestion_dataset_id, ingestion_version_id;
};

struct Benchmark {
  std::string id, project_id, org_id;  // org_id: the project's, filled in on read
  std::string name, title, description;
  std::string task_type, visibility = "registered";
  std::vector<std::string> orgs;  // visibility "organisations": the organisations admitted
  std::vector<MetricChoice> metrics;
  Rules rules;
  int64_t public_permille = 500;  // the share of test rows on the public leaderboard
  std::string split_key;          // secret, hex; never rendered
  std::string created_by;
  int64_t created_at = 0, updated_at = 0, version = 0;
  std::vector<Phase> phases;  // in position order

  const MetricChoice& primary() const;
  // The phase named `name` or with id `name`; "" for the current one (open at `now`, else the
  // last that has started, else the first).
  StatusOr<const Phase*> FindPhase(const std::string& name, int64_t now) const;
};

// ---- benchmarks

// Checks and inserts `b` with its phases (ids and the split key assigned; the phases' dataset
// versions resolved and pinned: the truth's dataset must be at the `hidden` access level and
// hold `truth_file` in that version; the input's must not be hidden).
StatusOr<Benchmark> CreateBenchmark(store::Tx& tx, Benchmark b, int64_t now);
// By id or by name.
StatusOr<Benchmark> GetBenchmark(store::Tx& tx, const std::string& id_or_name);

// What an organiser may change. Unset fields stay. Submissions are kept; a phase whose truth
// version changes has its submissions' scores marked stale (Benchmark changes report them) and
// an organiser re-scores them with RescorePhase. A change of rules.counts chooses every
// entrant's counted submission again, on every phase.
struct BenchmarkEdit {
  std::optional<std::string> title, description, visibility;
  std::optional<std::vector<std::string>> orgs;
  std::optional<Rules> rules;
  std::optional<std::vector<Phase>> phases;  // by name: existing ones edited, new ones added
};
struct EditResult {
  Benchmark benchmark;
  std::vector<std::string> truth_changed;  // phase ids whose ground truth is a new version
};
StatusOr<EditResult> EditBenchmark(store::Tx& tx, const std::string& id, const BenchmarkEdit& e,
                                   std::optional<int64_t> if_version, int64_t now);
// What CreateBenchmark and EditBenchmark do to each phase they are given: checks it (its dates,
// its datasets the benchmark's project's own or readable by all) and pins its dataset versions.
Status PinPhase(store::Tx& tx, const std::string& project_id, const std::string& task_type,
                Phase* p);

// The caller's standing towards a benchmark, for the policy module.
struct BenchmarkAccess {
  std::optional<std::string> org_role, project_role;  // in the owner organisation / project
  bool visible = false;      // may see the benchmark (its page, its public leaderboard)
  bool participant = false;  // may submit (visible and signed in)
};
StatusOr<BenchmarkAccess> AccessOf(store::Tx& tx, const Benchmark& b, const std::string& user_id);

// Benchmarks the user may see (public ones, registered ones when signed in, their organisations'
// and invitations', their projects'), in id order after `cursor`.
StatusOr<std::vector<Benchmark>> ListBenchmarks(store::Tx& tx, const std::string& user_id,
                                                const std::string& cursor, int limit);

Status Invite(store::Tx& tx, const std::string& benchmark_id, const std::string& user_id,
              const std::string& by, int64_t now);

// ---- teams: a participant is in at most one team per benchmark

struct Team {
  std::string id, benchmark_id, name, created_by;
  int64_t created_at = 0;
  std::vector<std::string> members;  // user ids
};
StatusOr<Team> CreateTeam(store::Tx& tx, const std::string& benchmark_id, const std::string& name,
                          const std::string& user_id, int64_t now);
StatusOr<Team> GetTeam(store::Tx& tx, const std::string& team_id);
StatusOr<std::vector<Team>> ListTeams(store::Tx& tx, const std::string& benchmark_id);
// Adds `user_id` (a participant of the benchmark, which the caller checked) to the team.
StatusOr<Team> AddTeamMember(store::Tx& tx, const std::string& team_id, const std::string& user_id,
                             int64_t now);
// The names of these teams, in one query, by id; ids not found are left out.
StatusOr<std::map<std::string, std::string>> TeamNames(store::Tx& tx,
                                                       const std::vector<std::string>& ids);
// The user's team on the benchmark, or "" when they enter alone.
StatusOr<std::string> TeamOf(store::Tx& tx, const std::string& benchmark_id,
                             const std::string& user_id);

// ---- submissions

using Scores = std::map<std::string, double>;

struct SubmissionEvent {
  std::string state;
  int64_t at = 0;
  std::string note;
};

struct Submission {
  std::string id, benchmark_id, phase_id, user_id, team_id, entrant;
  std::string kind = "predictions";  // predictions | code
  std::string format, description, sha256;
  int64_t size = 0, rows = 0;
  std::string state = "queued", reason;
  bool counted = true;
  int64_t attempts = 0;
  std::string lease_owner;
  int64_t lease_expires_at = 0;
  std::string truth_version_id;  // the ground truth it was scored against
  // A code run's charge (run_charges.h): the compute hold of the run in progress ("" when none
  // is open) and when that run started.
  std::string hold_id;
  int64_t run_started_at = 0;
  int64_t run_seen_at = 0;  // its scorer's last heartbeat (or the run's start)
  Scores scores_public, scores_private;
  int64_t created_at = 0, updated_at = 0, scored_at = 0;
  std::vector<SubmissionEvent> events;  // filled by GetSubmission
};

struct NewSubmission {
  std::string benchmark_id, phase, user_id, kind = "predictions", format, description, sha256;
  int64_t size = 0, rows = 0;
};
// Checks the phase is open and the entrant's quota, then records a queued submission (its file
// is already stored by the caller under the id `id`).
StatusOr<Submission> CreateSubmission(store::Tx& tx, const std::string& id, const NewSubmission& n,
                                      int64_t now);
StatusOr<Submission> GetSubmission(store::Tx& tx, const std::string& id);

struct SubmissionQuery {
  std::string benchmark_id;
  std::string phase_id;  // "" = all phases
  std::string user_id;   // "" = everyone's (organisers); else this participant's and their team's
  std::string cursor;
  int limit = 50;
};
StatusOr<std::vector<Submission>> ListSubmissions(store::Tx& tx, const SubmissionQuery& q);

// How many of the entrant's submissions of the phase count, in all and in the UTC day of `now`.
struct QuotaUse {
  int64_t today = 0, total = 0;
};
StatusOr<QuotaUse> QuotaOf(store::Tx& tx, const std::string& phase_id, const std::string& entrant,
                           int64_t now);

// Cancels a submission not yet scored: it no longer counts.
StatusOr<Submission> CancelSubmission(store::Tx& tx, const std::string& id, int64_t now);

// Puts a submission (or every scored or failed submission of a phase) back in the queue to be
// scored again against the phase's current ground truth; cancelled and invalid ones stay.
StatusOr<Submission> RescoreSubmission(store::Tx& tx, const std::string& id, int64_t now);
StatusOr<int64_t> RescorePhase(store::Tx& tx, const std::string& phase_id, int64_t now);

// ---- the scorer's lease: what keeps a submission from being stuck

struct LeaseOptions {
  int64_t lease_ms = 30'000;  // a lease not renewed by then is lost
  int64_t max_attempts = 3;   // a submission whose lease was lost this often fails
};
// The oldest submission waiting (queued, or scoring under a lost lease), leased to `owner`
// until now + lease_ms, attempts + 1. One that lost its lease max_attempts times ends failed
// (not counted) instead, and the next one is taken. nullopt when nothing waits.
StatusOr<std::optional<Submission>> ClaimSubmission(store::Tx& tx, const std::string& owner,
                                                    const LeaseOptions& o, int64_t now);
// Extends `owner`'s lease. Aborted when the lease was lost (another scorer took it).
Status RenewLease(store::Tx& tx, const std::string& id, const std::string& owner,
                  const LeaseOptions& o, int64_t now);
// Records the scores of a submission leased to `owner` and updates the leaderboard.
StatusOr<Submission> FinishScoring(store::Tx& tx, const std::string& id, const std::string& owner,
                                   const std::string& truth_version_id, const Scores& pub,
                                   const Scores& priv, int64_t now);
// Ends a leased submission `invalid` (its predictions do not fit the truth) or `failed` (the
// centre could not score it): neither counts.
StatusOr<Submission> EndUnscored(store::Tx& tx, const std::string& id, const std::string& owner,
                                 const std::string& state, const std::string& reason, int64_t now);
// A code submission's run, leased to `owner` (run_charges.h): StartRun before it places its hold
// on the benchmark's compute allocation (ResourceExhausted when none can pay: the caller ends the
// submission failed); EndRun after it charges the time used. Whatever ends the submission
// (FinishScoring, EndUnscored, CancelSubmission, a lost lease) settles an open hold too.
Status StartRun(store::Tx& tx, const std::string& id, const std::string& owner, int64_t now);
Status EndRun(store::Tx& tx, const std::string& id, const std::string& owner, int64_t now);

// ---- leaderboards

struct LeaderboardRow {
  int64_t rank = 0;  // 1-based; equal scores share a rank ("1, 2, 2, 4")
  std::string entrant, user_id, team_id, submission_id;
  double primary = 0;
  Scores scores;
  int64_t submitted_at = 0;
};
struct LeaderboardQuery {
  std::string phase_id;
  bool private_split = false;
  std::string metric;  // "" = the primary; another ranks the same counted submissions by it
  int64_t offset = 0;
  int limit = 100;
};
// One page of the phase's counted entries ranked by the metric (its direction from the
// benchmark's MetricChoice), best first, equal scores in entrant order; `primary` is each row's
// score by that metric on the split (the private one, where the private split has none, is the
// public one). Any metric is read along an index (the primary's in leaderboard_entries, the
// others' in leaderboard_scores, which the use cases keep in step with the entries), so a page
// costs its rows plus one count of the entries better than its first. InvalidArgument for a
// metric the benchmark does not have.
StatusOr<std::vector<LeaderboardRow>> Leaderboard(store::Tx& tx, const Benchmark& b,
                                                  const LeaderboardQuery& q);
// The number of entrants ranked on the phase's leaderboard.
StatusOr<int64_t> LeaderboardSize(store::Tx& tx, const std::string& phase_id);

// ---- reports

struct Report {
  std::string id, submission_id, user_id, sha256, envelope;
  int64_t created_at = 0;
};
StatusOr<Report> AddReport(store::Tx& tx, const std::string& submission_id,
                           const std::string& user_id, const std::string& envelope, int64_t now);
StatusOr<Report> GetReport(store::Tx& tx, const std::string& id);
// A submission's reports in id order (random ids: a stable order for paging, not the order of
// issue), at most `limit` after the id `after` ("" for the first page); their envelopes are
// left empty (GetReport reads one).
StatusOr<std::vector<Report>> ListReports(store::Tx& tx, const std::string& submission_id,
                                          const std::string& after = "", int limit = 100);

// ---- figures for the centre's page

StatusOr<int64_t> CountPublicBenchmarks(store::Tx& tx, int64_t bound, bool* more);

}  // namespace openlab::validation
