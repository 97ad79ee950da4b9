#include "validation/validation.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "data/catalog/datasets.h"
#include "tenants/tenants.h"
#include "validation/run_charges.h"
#include "validation/scorer.h"

namespace openlab::validation {

namespace json = boost::json;
using store::Row;
using store::Tx;
using store::Value;

bool IsTerminalSubmissionState(const std::string& s) {
  return s == "scored" || s == "failed" || s == "cancelled" || s == "invalid";
}

const MetricChoice& Benchmark::primary() const {
  for (const auto& m : metrics) {
    if (m.primary) return m;
  }
  return metrics.front();
}

StatusOr<const Phase*> Benchmark::FindPhase(const std::string& name, int64_t now) const {
  if (phases.empty()) return FailedPrecondition(fmt::format("benchmark {} has no phase", id));
  if (!name.empty()) {
    for (const auto& p : phases) {
      if (p.name == name || p.id == name) return &p;
    }
    return NotFound(fmt::format("benchmark {} has no phase '{}'", this->name, name));
  }
  const Phase* started = nullptr;
  for (const auto& p : phases) {
    if (p.starts_at <= now && now < p.ends_at) return &p;
    if (p.starts_at <= now) started = &p;
  }
  return started != nullptr ? started : &phases.front();
}

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr const char* kBenchmarkCols =
    "id, project_id, name, title, description, task_type, visibility, metrics, rules, "
    "public_permille, split_key, created_by, created_at, updated_at, version";
constexpr const char* kPhaseCols =
    "id, benchmark_id, position, name, starts_at, ends_at, input_dataset_id, input_version_id, "
    "truth_dataset_id, truth_version_id, truth_file, program_dataset_id, program_version_id, "
    "ingestion_dataset_id, ingestion_version_id";
constexpr const char* kSubmissionCols =
    "id, benchmark_id, phase_id, user_id, team_id, entrant, kind, format, description, sha256, "
    "size, rows, state, counted, reason, attempts, lease_owner, lease_expires_at, "
    "truth_version_id, scores_public, scores_private, created_at, updated_at, scored_at, hold_id, "
    "run_started_at, run_seen_at";

std::string MetricsJson(const std::vector<MetricChoice>& metrics) {
  json::array a;
  for (const auto& m : metrics) {
    a.push_back(json::object{
        {"name", m.name}, {"primary", m.primary}, {"higher_is_better", m.higher_is_better}});
  }
  return json::serialize(a);
}

std::string RulesJson(const Rules& r) {
  return json::serialize(json::object{{"max_per_day", r.max_per_day},
                                      {"max_total", r.max_total},
                                      {"max_bytes", r.max_bytes},
                                      {"counts", r.counts},
                                      {"code", r.code},
                                      {"max_runtime_s", r.max_runtime_s},
                                      {"max_memory_mb", r.max_memory_mb},
                                      {"code_charge", r.code_charge}});
}

std::string ScoresJson(const Scores& s) {
  json::object o;
  for (const auto& [k, v] : s) o[k] = v;
  return json::serialize(o);
}

Scores ScoresFrom(const std::string& text) {
  Scores s;
  if (text.empty()) return s;
  json::value v = json::parse(text);
  for (const auto& [k, x] : v.as_object()) s[std::string(k)] = x.to_number<double>();
  return s;
}

Benchmark BenchmarkFromRow(const Row& r) {
  Benchmark b;
  b.id = r.Str(0);
  b.project_id = r.Str(1);
  b.name = r.Str(2);
  b.title = r.Str(3);
  b.description = r.Str(4);
  b.task_type = r.Str(5);
  b.visibility = r.Str(6);
  json::value metrics = json::parse(r.Str(7));
  for (const auto& m : metrics.as_array()) {
    MetricChoice c;
    c.name = std::string(m.at("name").as_string());
    c.primary = m.at("primary").as_bool();
    const MetricInfo* info = FindMetric(b.task_type, c.name);
    const json::value* hib = m.as_object().if_contains("higher_is_better");
    c.higher_is_better =
        info != nullptr ? info->higher_is_better : hib == nullptr || hib->as_bool();
    b.metrics.push_back(std::move(c));
  }
  json::value rules = json::parse(r.Str(8));
  const json::object& ro = rules.as_object();
  b.rules.max_per_day = ro.at("max_per_day").as_int64();
  b.rules.max_total = ro.at("max_total").as_int64();
  b.rules.max_bytes = ro.at("max_bytes").as_int64();
  b.rules.counts = std::string(ro.at("counts").as_string());
  // Added after the first benchmarks: absent means the defaults.
  if (const json::value* v = ro.if_contains("code")) b.rules.code = v->as_bool();
  if (const json::value* v = ro.if_contains("max_runtime_s")) b.rules.max_runtime_s = v->as_int64();
  if (const json::value* v = ro.if_contains("max_memory_mb")) b.rules.max_memory_mb = v->as_int64();
  if (const json::value* v = ro.if_contains("code_charge")) {
    b.rules.code_charge = std::string(v->as_string());
  }
  b.public_permille = r.Int(9);
  b.split_key = r.Str(10);
  b.created_by = r.Str(11);
  b.created_at = r.Int(12);
  b.updated_at = r.Int(13);
  b.version = r.Int(14);
  return b;
}

Phase PhaseFromRow(const Row& r) {
  Phase p;
  p.id = r.Str(0);
  p.benchmark_id = r.Str(1);
  p.position = r.Int(2);
  p.name = r.Str(3);
  p.starts_at = r.Int(4);
  p.ends_at = r.Int(5);
  p.input_dataset_id = r.Str(6);
  p.input_version_id = r.Str(7);
  p.truth_dataset_id = r.Str(8);
  p.truth_version_id = r.Str(9);
  p.truth_file = r.Str(10);
  p.program_dataset_id = r.Str(11);
  p.program_version_id = r.Str(12);
  p.ingestion_dataset_id = r.Str(13);
  p.ingestion_version_id = r.Str(14);
  return p;
}

Submission SubmissionFromRow(const Row& r) {
  Submission s;
  s.id = r.Str(0);
  s.benchmark_id = r.Str(1);
  s.phase_id = r.Str(2);
  s.user_id = r.Str(3);
  s.team_id = r.Str(4);
  s.entrant = r.Str(5);
  s.kind = r.Str(6);
  s.format = r.Str(7);
  s.description = r.Str(8);
  s.sha256 = r.Str(9);
  s.size = r.Int(10);
  s.rows = r.Int(11);
  s.state = r.Str(12);
  s.counted = r.Int(13) != 0;
  s.reason = r.Str(14);
  s.attempts = r.Int(15);
  s.lease_owner = r.Str(16);
  s.lease_expires_at = r.Int(17);
  s.truth_version_id = r.Str(18);
  s.scores_public = ScoresFrom(r.Str(19));
  s.scores_private = ScoresFrom(r.Str(20));
  s.created_at = r.Int(21);
  s.updated_at = r.Int(22);
  s.scored_at = r.Int(23);
  s.hold_id = r.Str(24);
  s.run_started_at = r.Int(25);
  s.run_seen_at = r.Int(26);
  return s;
}

bool IsSlug(const std::string& s) {
  if (s.size() < 2 || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

template <typename List>
bool OneOf(const List& list, const std::string& v) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* x) { return v == x; });
}

Status CheckRules(const Rules& r) {
  if (r.max_per_day < 1 || r.max_per_day > 10000) {
    return InvalidArgument("rules.max_per_day must be between 1 and 10000");
  }
  if (r.max_total < 1 || r.max_total > 1000000) {
    return InvalidArgument("rules.max_total must be between 1 and 1000000");
  }
  if (r.max_bytes < 1 || r.max_bytes > (int64_t{1} << 30)) {
    return InvalidArgument("rules.max_bytes must be between 1 and 1 GiB");
  }
  if (r.counts != "best" && r.counts != "last") {
    return InvalidArgument("rules.counts must be 'best' or 'last'");
  }
  if (r.max_runtime_s < 1 || r.max_runtime_s > 86400) {
    return InvalidArgument("rules.max_runtime_s must be between 1 and 86400");
  }
  if (r.max_memory_mb < 64 || r.max_memory_mb > 1 << 20) {
    return InvalidArgument("rules.max_memory_mb must be between 64 and 1048576");
  }
  if (r.code_charge != "organiser" && r.code_charge != "centre") {
    return InvalidArgument("rules.code_charge must be 'organiser' or 'centre'");
  }
  return Status::Ok();
}

// A dataset a phase of a benchmark of `project_id` names as its `what`: the project's own, or,
// where `shared_ok`, one that every signed-in user may read anyway (open or registered). Another
// project's is answered as one that does not exist: a benchmark is never a way to score against,
// or run code over, data its organisers may not read.
StatusOr<data::Dataset> PhaseDataset(Tx& tx, const std::string& project_id, const Phase& p,
                                     const std::string& id, bool shared_ok, const char* what) {
  auto d = data::GetDataset(tx, id);
  if (d.ok() && (d->project_id == project_id ||
                 (shared_ok && (d->access_level == "open" || d->access_level == "registered")))) {
    return d;
  }
  if (!d.ok() && d.status().code() != StatusCode::kNotFound) return d.status();
  return InvalidArgument(fmt::format(
      "phase {}: {} '{}' is not a dataset of the benchmark's project", p.name, what, id));
}

}  // namespace

Status PinPhase(Tx& tx, const std::string& project_id, const std::string& task_type, Phase* p) {
  if (!IsSlug(p->name)) {
    return InvalidArgument(
        fmt::format("phase name '{}' must be 2-64 lower-case letters, digits and dashes", p->name));
  }
  if (p->ends_at <= p->starts_at) {
    return InvalidArgument(fmt::format("phase {}: ends_at must be after starts_at", p->name));
  }
  ASSIGN_OR_RETURN(auto truth_ds,
                   PhaseDataset(tx, project_id, *p, p->truth_dataset_id, false, "truth_dataset"));
  if (truth_ds.access_level != "hidden") {
    return InvalidArgument(fmt::format(
        "phase {}: the ground truth dataset {} is at access level '{}'; it must be 'hidden', so "
        "that only the scorer reads it",
        p->name, truth_ds.name, truth_ds.access_level));
  }
  ASSIGN_OR_RETURN(auto tv, data::ResolveVersion(tx, truth_ds.id, p->truth_version_id));
  p->truth_dataset_id = truth_ds.id;
  p->truth_version_id = tv.id;
  if (task_type == "custom") {
    // The program reads the whole truth version; it is the organiser's, in a dataset of theirs.
    p->truth_file.clear();
    if (p->program_dataset_id.empty()) {
      return InvalidArgument(fmt::format(
          "phase {}: a custom task names its scoring program: 'scoring_program_dataset'", p->name));
    }
    ASSIGN_OR_RETURN(auto prog_ds, PhaseDataset(tx, project_id, *p, p->program_dataset_id, true,
                                                "scoring_program_dataset"));
    ASSIGN_OR_RETURN(
        auto pv,
        data::ResolveVersion(tx, prog_ds.id,
                             p->program_version_id.empty() ? "latest" : p->program_version_id));
    if (!data::GetFile(tx, prog_ds.id, pv.id, "metadata").ok()) {
      return InvalidArgument(fmt::format(
          "phase {}: version {} of {} has no 'metadata' file at its root (the scoring program's "
          "command)",
          p->name, pv.id.substr(0, 12), prog_ds.name));
    }
    p->program_dataset_id = prog_ds.id;
    p->program_version_id = pv.id;
  } else {
    if (!p->program_dataset_id.empty()) {
      return InvalidArgument(fmt::format(
          "phase {}: a scoring program is for custom tasks; {} tasks use the built-in metrics",
          p->name, task_type));
    }
    p->program_version_id.clear();
    if (p->truth_file.empty()) p->truth_file = "truth.csv";
    auto f = data::GetFile(tx, truth_ds.id, tv.id, p->truth_file);
    if (!f.ok()) {
      return InvalidArgument(fmt::format("phase {}: version {} of {} has no file '{}'", p->name,
                                         tv.id.substr(0, 12), truth_ds.name, p->truth_file));
    }
  }
  if (!p->ingestion_dataset_id.empty()) {
    ASSIGN_OR_RETURN(auto ing_ds, PhaseDataset(tx, project_id, *p, p->ingestion_dataset_id, true,
                                               "ingestion_program_dataset"));
    ASSIGN_OR_RETURN(
        auto iv,
        data::ResolveVersion(tx, ing_ds.id,
                             p->ingestion_version_id.empty() ? "latest" : p->ingestion_version_id));
    if (!data::GetFile(tx, ing_ds.id, iv.id, "metadata").ok()) {
      return InvalidArgument(fmt::format(
          "phase {}: version {} of {} has no 'metadata' file at its root (the ingestion "
          "program's command)",
          p->name, iv.id.substr(0, 12), ing_ds.name));
    }
    p->ingestion_dataset_id = ing_ds.id;
    p->ingestion_version_id = iv.id;
  } else {
    p->ingestion_version_id.clear();
  }
  if (!p->input_dataset_id.empty()) {
    ASSIGN_OR_RETURN(auto in_ds,
                     PhaseDataset(tx, project_id, *p, p->input_dataset_id, true, "input_dataset"));
    if (in_ds.access_level == "hidden") {
      return InvalidArgument(
          fmt::format("phase {}: the input dataset {} is hidden; participants could not read it",
                      p->name, in_ds.name));
    }
    ASSIGN_OR_RETURN(auto iv, data::ResolveVersion(tx, in_ds.id, p->input_version_id));
    p->input_dataset_id = in_ds.id;
    p->input_version_id = iv.id;
  } else {
    p->input_version_id.clear();
  }
  return Status::Ok();
}

namespace {

Status InsertPhase(Tx& tx, const Phase& p) {
  auto n = tx.Exec(
      fmt::format("INSERT INTO benchmark_phases ({}) VALUES "
                  "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                  kPhaseCols),
      {p.id, p.benchmark_id, p.position, p.name, p.starts_at, p.ends_at, p.input_dataset_id,
       p.input_version_id, p.truth_dataset_id, p.truth_version_id, p.truth_file,
       p.program_dataset_id, p.program_version_id, p.ingestion_dataset_id, p.ingestion_version_id});
  if (n.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("the benchmark already has a phase named '{}'", p.name));
  }
  return n.status();
}

Status CheckOrgs(Tx& tx, const Benchmark& b) {
  if (b.visibility == "organisations" && b.orgs.empty()) {
    return InvalidArgument("visibility 'organisations' needs the organisations: give 'orgs'");
  }
  if (b.orgs.size() > 100) return InvalidArgument("at most 100 organisations");
  for (const auto& o : b.orgs) RETURN_IF_ERROR(tenants::GetOrg(tx, o).status());
  return Status::Ok();
}

Status WriteOrgs(Tx& tx, const Benchmark& b) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM benchmark_orgs WHERE benchmark_id = $1", {b.id}).status());
  std::set<std::string> seen(b.orgs.begin(), b.orgs.end());
  for (const auto& o : seen) {
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO benchmark_orgs (benchmark_id, org_id) VALUES ($1, $2)", {b.id, o})
            .status());
  }
  return Status::Ok();
}

Status AddEvent(Tx& tx, const std::string& id, const std::string& state, int64_t at,
                const std::string& note) {
  return tx
      .Exec(
          "INSERT INTO submission_events (submission_id, seq, state, at, note) SELECT $1, "
          "COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM submission_events WHERE submission_id = $1",
          {id, state, at, note})
      .status();
}

// Moves a submission to `state` with its event; `counted` follows the state.
Status SetState(Tx& tx, Submission* s, const std::string& state, const std::string& reason,
                int64_t now) {
  s->state = state;
  s->reason = reason;
  s->counted = state == "queued" || state == "scoring" || state == "scored";
  s->updated_at = now;
  if (state != "scoring") {
    s->lease_owner.clear();
    s->lease_expires_at = 0;
  }
  RETURN_IF_ERROR(tx.Exec("UPDATE submissions SET state = $2, reason = $3, counted = $4, "
                          "updated_at = $5, lease_owner = $6, lease_expires_at = $7, "
                          "attempts = $8 WHERE id = $1",
                          {s->id, state, reason, int64_t{s->counted}, now, s->lease_owner,
                           s->lease_expires_at, s->attempts})
                      .status());
  return AddEvent(tx, s->id, state, now, reason);
}

// Whether `s` takes the place of `chosen` as its entrant's counted submission, submissions
// being offered in id order: a scored one with a public primary score, the latest under
// counts "last", the first of the best under "best".
bool Displaces(const Benchmark& b, const std::optional<Submission>& chosen, const Submission& s) {
  const MetricChoice& primary = b.primary();
  if (s.state != "scored") return false;
  auto it = s.scores_public.find(primary.name);
  if (it == s.scores_public.end()) return false;
  if (!chosen || b.rules.counts == "last") return true;
  double best = chosen->scores_public.at(primary.name);
  return primary.higher_is_better ? it->second > best : it->second < best;
}

// Replaces the entrant's entry (and its per-metric scores) by `chosen`'s, or removes it.
Status WriteEntry(Tx& tx, const Benchmark& b, const std::string& phase_id,
                  const std::string& entrant, const std::optional<Submission>& chosen) {
  // The entry's per-metric scores go first (they refer to the entry) and come back after it.
  RETURN_IF_ERROR(tx.Exec("DELETE FROM leaderboard_scores WHERE phase_id = $1 AND entrant = $2",
                          {phase_id, entrant})
                      .status());
  ASSIGN_OR_RETURN(int64_t removed,
                   tx.Exec("DELETE FROM leaderboard_entries WHERE phase_id = $1 AND entrant = $2",
                           {phase_id, entrant}));
  // The phase's count changes only when an entrant gains or loses its entry (so concurrent
  // scorers of one phase contend for its row only then).
  if (int64_t change = (chosen ? 1 : 0) - removed; change != 0) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO leaderboard_sizes (phase_id, entries) VALUES ($1, $2) "
                            "ON CONFLICT (phase_id) DO UPDATE SET entries = "
                            "leaderboard_sizes.entries + excluded.entries",
                            {phase_id, change})
                        .status());
  }
  if (!chosen) return Status::Ok();
  const MetricChoice& primary = b.primary();
  double pub = chosen->scores_public.at(primary.name);
  auto priv_it = chosen->scores_private.find(primary.name);
  double priv = priv_it == chosen->scores_private.end() ? pub : priv_it->second;
  RETURN_IF_ERROR(
      tx.Exec(
            "INSERT INTO leaderboard_entries (phase_id, entrant, submission_id, user_id, team_id, "
            "public_primary, private_primary, scores_public, scores_private, submitted_at) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            {phase_id, entrant, chosen->id, chosen->user_id, chosen->team_id, pub, priv,
             ScoresJson(chosen->scores_public), ScoresJson(chosen->scores_private),
             chosen->created_at})
          .status());
  // One row per metric and split, in one statement: the public score, and the private one (the
  // public one where the private split has none, as for private_primary).
  std::vector<Value> params = {phase_id, entrant};
  std::string values;
  auto add = [&](const char* split, const std::string& metric, double value) {
    values += fmt::format("{}($1, $2, '{}', ${}, ${})", values.empty() ? "" : ", ", split,
                          params.size() + 1, params.size() + 2);
    params.emplace_back(metric);
    params.emplace_back(value);
  };
  for (const MetricChoice& m : b.metrics) {
    auto p = chosen->scores_public.find(m.name);
    if (p == chosen->scores_public.end()) continue;
    auto v = chosen->scores_private.find(m.name);
    add("public", m.name, p->second);
    add("private", m.name, v == chosen->scores_private.end() ? p->second : v->second);
  }
  if (values.empty()) return Status::Ok();
  return tx
      .Exec("INSERT INTO leaderboard_scores (phase_id, entrant, split, metric, value) VALUES " +
                values,
            params)
      .status();
}

// The entrant's counted submission on the phase's leaderboard, chosen again from its scored
// submissions (after a score, a cancellation or a re-score).
Status RecomputeEntry(Tx& tx, const Benchmark& b, const std::string& phase_id,
                      const std::string& entrant) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM submissions WHERE phase_id = "
                                                   "$1 AND entrant = $2 ORDER BY id",
                                                   kSubmissionCols),
                                       {phase_id, entrant}));
  std::optional<Submission> chosen;
  for (const Row& r : rows) {
    Submission s = SubmissionFromRow(r);
    if (Displaces(b, chosen, s)) chosen = std::move(s);
  }
  return WriteEntry(tx, b, phase_id, entrant, chosen);
}

// Every entrant's counted submission on the phase, chosen again (after the rule that chooses it
// changed): one read of the phase's scored submissions; only the entries that change are
// written.
Status RecomputePhase(Tx& tx, const Benchmark& b, const std::string& phase_id) {
  ASSIGN_OR_RETURN(auto current, tx.Query("SELECT entrant, submission_id FROM leaderboard_entries "
                                          "WHERE phase_id = $1",
                                          {phase_id}));
  std::map<std::string, std::string> counted;  // entrant -> its counted submission
  for (const Row& r : current) counted[r.Str(0)] = r.Str(1);
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM submissions WHERE phase_id = "
                                                   "$1 AND state = 'scored' ORDER BY entrant, id",
                                                   kSubmissionCols),
                                       {phase_id}));
  std::map<std::string, std::optional<Submission>> chosen;
  for (const auto& [entrant, id] : counted) chosen[entrant];  // none, unless one is found below
  for (const Row& r : rows) {
    Submission s = SubmissionFromRow(r);
    std::optional<Submission>& c = chosen[s.entrant];
    if (Displaces(b, c, s)) c = std::move(s);
  }
  for (const auto& [entrant, c] : chosen) {
    auto it = counted.find(entrant);
    std::string was = it == counted.end() ? "" : it->second;
    if ((c ? c->id : "") == was) continue;
    RETURN_IF_ERROR(WriteEntry(tx, b, phase_id, entrant, c));
  }
  return Status::Ok();
}

StatusOr<Submission> LeasedTo(Tx& tx, const std::string& id, const std::string& owner) {
  ASSIGN_OR_RETURN(Submission s, GetSubmission(tx, id));
  if (s.state != "scoring" || s.lease_owner != owner) {
    return Aborted(fmt::format("submission {} is no longer leased to this scorer", id));
  }
  return s;
}

}  // namespace

// ---- benchmarks

StatusOr<Benchmark> CreateBenchmark(Tx& tx, Benchmark b, int64_t now) {
  if (!IsSlug(b.name)) {
    return InvalidArgument("name must be 2-64 lower-case letters, digits and dashes");
  }
  if (b.title.empty() || b.title.size() > 200) return InvalidArgument("title: 1-200 characters");
  if (b.description.size() > 20000) return InvalidArgument("description: at most 20000 characters");
  if (!OneOf(kTaskTypes, b.task_type)) {
    std::string all;
    for (const char* t : kTaskTypes) all += fmt::format("{}{}", all.empty() ? "" : ", ", t);
    return InvalidArgument(fmt::format("task_type must be one of {}", all));
  }
  if (!OneOf(kVisibilities, b.visibility)) {
    return InvalidArgument("visibility must be one of public, registered, organisations, invite");
  }
  if (b.metrics.empty()) return InvalidArgument("give at least one metric");
  int primaries = 0;
  std::set<std::string> names;
  for (auto& m : b.metrics) {
    const MetricInfo* info = FindMetric(b.task_type, m.name);
    if (b.task_type == "custom") {
      // The organiser's program names its scores; a metric is one of its keys.
      bool key =
          !m.name.empty() && m.name.size() <= 64 &&
          std::all_of(m.name.begin(), m.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
          });
      if (!key) {
        return InvalidArgument(fmt::format(
            "metric '{}': a custom task's metric is a key of its program's scores (1-64 letters, "
            "digits, '_', '-', '.')",
            m.name.substr(0, 80)));
      }
      if (!names.insert(m.name).second) {
        return InvalidArgument(fmt::format("metric '{}' given twice", m.name));
      }
      primaries += m.primary ? 1 : 0;
      continue;
    }
    if (info == nullptr) {
      std::string offered;
      for (const auto& i : MetricsFor(b.task_type))
        offered += (offered.empty() ? "" : ", ") + std::string(i.name);
      return InvalidArgument(fmt::format("metric '{}' is not offered for {} tasks (offered: {})",
                                         m.name, b.task_type, offered));
    }
    if (!names.insert(m.name).second)
      return InvalidArgument(fmt::format("metric '{}' given twice", m.name));
    m.higher_is_better = info->higher_is_better;
    primaries += m.primary ? 1 : 0;
  }
  if (primaries == 0) b.metrics.front().primary = true;
  if (primaries > 1) return InvalidArgument("exactly one metric is primary");
  RETURN_IF_ERROR(CheckRules(b.rules));
  if (b.public_permille < 1 || b.public_permille > 1000) {
    return InvalidArgument("public_fraction must be more than 0 and at most 1");
  }
  if (b.phases.empty()) return InvalidArgument("give at least one phase");
  if (b.phases.size() > 20) return InvalidArgument("at most 20 phases");
  ASSIGN_OR_RETURN(auto project, tenants::GetProject(tx, b.project_id));
  b.org_id = project.org_id;
  RETURN_IF_ERROR(CheckOrgs(tx, b));
  b.id = NewId("bmk");
  unsigned char key[crypto_shorthash_KEYBYTES];
  randombytes_buf(key, sizeof key);
  b.split_key.resize(sizeof key * 2 + 1);
  sodium_bin2hex(b.split_key.data(), b.split_key.size(), key, sizeof key);
  b.split_key.pop_back();
  b.created_at = b.updated_at = now;
  b.version = 1;
  auto n = tx.Exec(fmt::format("INSERT INTO benchmarks ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                               "$8, $9, $10, $11, $12, $13, $14, $15)",
                               kBenchmarkCols),
                   {b.id, b.project_id, b.name, b.title, b.description, b.task_type, b.visibility,
                    MetricsJson(b.metrics), RulesJson(b.rules), b.public_permille, b.split_key,
                    b.created_by, now, now, b.version});
  if (n.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("a benchmark named '{}' exists", b.name));
  }
  RETURN_IF_ERROR(n.status());
  RETURN_IF_ERROR(WriteOrgs(tx, b));
  int64_t pos = 0;
  for (auto& p : b.phases) {
    RETURN_IF_ERROR(PinPhase(tx, b.project_id, b.task_type, &p));
    p.id = NewId("phs");
    p.benchmark_id = b.id;
    p.position = pos++;
    RETURN_IF_ERROR(InsertPhase(tx, p));
  }
  return b;
}

StatusOr<Benchmark> GetBenchmark(Tx& tx, const std::string& id_or_name) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM benchmarks WHERE id = $1 OR "
                                                   "name = $1",
                                                   kBenchmarkCols),
                                       {id_or_name}));
  if (rows.empty()) return NotFound(fmt::format("no benchmark '{}'", id_or_name));
  Benchmark b = BenchmarkFromRow(rows[0]);
  ASSIGN_OR_RETURN(auto project, tenants::GetProject(tx, b.project_id));
  b.org_id = project.org_id;
  ASSIGN_OR_RETURN(auto orgs,
                   tx.Query("SELECT org_id FROM benchmark_orgs WHERE benchmark_id = $1 ORDER BY "
                            "org_id",
                            {b.id}));
  for (const Row& r : orgs) b.orgs.push_back(r.Str(0));
  ASSIGN_OR_RETURN(auto phases,
                   tx.Query(fmt::format("SELECT {} FROM benchmark_phases WHERE benchmark_id = $1 "
                                        "ORDER BY position",
                                        kPhaseCols),
                            {b.id}));
  for (const Row& r : phases) b.phases.push_back(PhaseFromRow(r));
  return b;
}

StatusOr<EditResult> EditBenchmark(Tx& tx, const std::string& id, const BenchmarkEdit& e,
                                   std::optional<int64_t> if_version, int64_t now) {
  ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, id));
  if (if_version && *if_version != b.version) {
    return FailedPrecondition(
        fmt::format("benchmark {} changed meanwhile (version {}, not {}); read it again", b.name,
                    b.version, *if_version));
  }
  EditResult out;
  if (e.title) {
    if (e.title->empty() || e.title->size() > 200)
      return InvalidArgument("title: 1-200 characters");
    b.title = *e.title;
  }
  if (e.description) {
    if (e.description->size() > 20000)
      return InvalidArgument("description: at most 20000 characters");
    b.description = *e.description;
  }
  if (e.visibility) {
    if (!OneOf(kVisibilities, *e.visibility)) {
      return InvalidArgument("visibility must be one of public, registered, organisations, invite");
    }
    b.visibility = *e.visibility;
  }
  if (e.orgs) b.orgs = *e.orgs;
  RETURN_IF_ERROR(CheckOrgs(tx, b));
  RETURN_IF_ERROR(WriteOrgs(tx, b));
  bool recount = false;  // which submission counts changes: the entries are chosen again
  if (e.rules) {
    RETURN_IF_ERROR(CheckRules(*e.rules));
    recount = e.rules->counts != b.rules.counts;
    b.rules = *e.rules;
  }
  if (e.phases) {
    for (Phase p : *e.phases) {
      RETURN_IF_ERROR(PinPhase(tx, b.project_id, b.task_type, &p));
      auto it = std::find_if(b.phases.begin(), b.phases.end(),
                             [&](const Phase& x) { return x.name == p.name; });
      if (it == b.phases.end()) {
        if (b.phases.size() >= 20) return InvalidArgument("at most 20 phases");
        p.id = NewId("phs");
        p.benchmark_id = b.id;
        p.position = b.phases.empty() ? 0 : b.phases.back().position + 1;
        RETURN_IF_ERROR(InsertPhase(tx, p));
        b.phases.push_back(p);
        continue;
      }
      if (it->truth_version_id != p.truth_version_id ||
          it->truth_dataset_id != p.truth_dataset_id || it->truth_file != p.truth_file ||
          it->program_version_id != p.program_version_id ||
          it->ingestion_version_id != p.ingestion_version_id) {
        out.truth_changed.push_back(it->id);
      }
      p.id = it->id;
      p.benchmark_id = b.id;
      p.position = it->position;
      RETURN_IF_ERROR(
          tx.Exec("UPDATE benchmark_phases SET starts_at = $2, ends_at = $3, "
                  "input_dataset_id = $4, input_version_id = $5, truth_dataset_id = "
                  "$6, truth_version_id = $7, truth_file = $8, program_dataset_id = $9, "
                  "program_version_id = $10, ingestion_dataset_id = $11, ingestion_version_id = "
                  "$12 WHERE id = $1",
                  {p.id, p.starts_at, p.ends_at, p.input_dataset_id, p.input_version_id,
                   p.truth_dataset_id, p.truth_version_id, p.truth_file, p.program_dataset_id,
                   p.program_version_id, p.ingestion_dataset_id, p.ingestion_version_id})
              .status());
      *it = p;
    }
  }
  b.updated_at = now;
  b.version++;
  RETURN_IF_ERROR(
      tx.Exec("UPDATE benchmarks SET title = $2, description = $3, visibility = $4, "
              "rules = $5, updated_at = $6, version = $7 WHERE id = $1",
              {b.id, b.title, b.description, b.visibility, RulesJson(b.rules), now, b.version})
          .status());
  if (recount) {
    for (const Phase& p : b.phases) RETURN_IF_ERROR(RecomputePhase(tx, b, p.id));
  }
  out.benchmark = std::move(b);
  return out;
}

StatusOr<BenchmarkAccess> AccessOf(Tx& tx, const Benchmark& b, const std::string& user_id) {
  BenchmarkAccess a;
  if (user_id.empty()) {
    a.visible = b.visibility == "public";
    return a;
  }
  ASSIGN_OR_RETURN(a.org_role, tenants::OrgRoleOf(tx, b.org_id, user_id));
  ASSIGN_OR_RETURN(a.project_role, tenants::ProjectRoleOf(tx, b.project_id, user_id));
  bool admitted = false;
  if (b.visibility == "public" || b.visibility == "registered") {
    admitted = true;
  } else if (b.visibility == "organisations") {
    for (const auto& org : b.orgs) {
      ASSIGN_OR_RETURN(auto role, tenants::OrgRoleOf(tx, org, user_id));
      if (role) admitted = true;
    }
  } else {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM benchmark_invites WHERE benchmark_id = $1 "
                                         "AND user_id = $2",
                                         {b.id, user_id}));
    admitted = !rows.empty();
  }
  bool organiser = a.project_role.has_value() || a.org_role == "org_admin";
  a.visible = admitted || organiser;
  a.participant = a.visible;
  return a;
}

StatusOr<std::vector<Benchmark>> ListBenchmarks(Tx& tx, const std::string& user_id,
                                                const std::string& cursor, int limit) {
  // A page of each part of what the user may see, along its index, merged in id order: the
  // public and registered ones, and one page per project, invitation list and organisation of
  // theirs.
  std::vector<std::pair<std::string, std::vector<Value>>> parts = {
      {"SELECT id FROM benchmarks WHERE visibility = 'public' AND id > $1 ORDER BY id LIMIT $2",
       {cursor, int64_t{limit}}}};
  if (!user_id.empty()) {
    parts.push_back(
        {"SELECT id FROM benchmarks WHERE visibility = 'registered' AND id > $1 "
         "ORDER BY id LIMIT $2",
         {cursor, int64_t{limit}}});
    parts.push_back(
        {"SELECT benchmark_id FROM benchmark_invites WHERE user_id = $3 AND "
         "benchmark_id > $1 ORDER BY benchmark_id LIMIT $2",
         {cursor, int64_t{limit}, user_id}});
    ASSIGN_OR_RETURN(auto projects, tx.Query(tenants::ProjectsOfMemberSql(1), {user_id}));
    for (const Row& p : projects) {
      parts.push_back(
          {"SELECT id FROM benchmarks WHERE project_id = $3 AND id > $1 ORDER BY id "
           "LIMIT $2",
           {cursor, int64_t{limit}, p.Str(0)}});
    }
    ASSIGN_OR_RETURN(auto orgs, tx.Query(tenants::OrgsOfMemberSql(1), {user_id}));
    for (const Row& o : orgs) {
      parts.push_back(
          {"SELECT benchmark_id FROM benchmark_orgs WHERE org_id = $3 AND "
           "benchmark_id > $1 ORDER BY benchmark_id LIMIT $2",
           {cursor, int64_t{limit}, o.Str(0)}});
    }
  }
  std::set<std::string> ids;
  for (const auto& [sql, params] : parts) {
    ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    for (const Row& r : rows) ids.insert(r.Str(0));
  }
  std::vector<Benchmark> out;
  for (const auto& id : ids) {
    if (static_cast<int>(out.size()) >= limit) break;
    ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, id));
    ASSIGN_OR_RETURN(auto a, AccessOf(tx, b, user_id));
    if (a.visible) out.push_back(std::move(b));
  }
  return out;
}

Status Invite(Tx& tx, const std::string& benchmark_id, const std::string& user_id,
              const std::string& by, int64_t now) {
  RETURN_IF_ERROR(tenants::GetUser(tx, user_id).status());
  auto n = tx.Exec(
      "INSERT INTO benchmark_invites (benchmark_id, user_id, invited_by, created_at) "
      "VALUES ($1, $2, $3, $4)",
      {benchmark_id, user_id, by, now});
  if (n.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return n.status();
}

// ---- teams

StatusOr<Team> GetTeam(Tx& tx, const std::string& team_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, benchmark_id, name, created_by, created_at "
                                       "FROM benchmark_teams WHERE id = $1",
                                       {team_id}));
  if (rows.empty()) return NotFound(fmt::format("no team {}", team_id));
  Team t{rows[0].Str(0), rows[0].Str(1), rows[0].Str(2), rows[0].Str(3), rows[0].Int(4), {}};
  ASSIGN_OR_RETURN(auto members, tx.Query("SELECT user_id FROM benchmark_team_members WHERE "
                                          "team_id = $1 ORDER BY user_id",
                                          {team_id}));
  for (const Row& r : members) t.members.push_back(r.Str(0));
  return t;
}

StatusOr<std::vector<Team>> ListTeams(Tx& tx, const std::string& benchmark_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM benchmark_teams WHERE benchmark_id = $1 "
                                       "ORDER BY name LIMIT 1000",
                                       {benchmark_id}));
  std::vector<Team> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(Team t, GetTeam(tx, r.Str(0)));
    out.push_back(std::move(t));
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> TeamNames(Tx& tx,
                                                       const std::vector<std::string>& ids) {
  std::map<std::string, std::string> out;
  if (ids.empty()) return out;
  std::vector<Value> params(ids.begin(), ids.end());
  std::string in = store::PaddedInList(&params, 1);
  ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT id, name FROM benchmark_teams WHERE id IN (" + in + ")", params));
  for (const Row& r : rows) out[r.Str(0)] = r.Str(1);
  return out;
}

StatusOr<std::string> TeamOf(Tx& tx, const std::string& benchmark_id, const std::string& user_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT team_id FROM benchmark_team_members WHERE "
                                       "benchmark_id = $1 AND user_id = $2",
                                       {benchmark_id, user_id}));
  return rows.empty() ? std::string() : rows[0].Str(0);
}

StatusOr<Team> AddTeamMember(Tx& tx, const std::string& team_id, const std::string& user_id,
                             int64_t now) {
  ASSIGN_OR_RETURN(Team t, GetTeam(tx, team_id));
  RETURN_IF_ERROR(tenants::GetUser(tx, user_id).status());
  ASSIGN_OR_RETURN(std::string current, TeamOf(tx, t.benchmark_id, user_id));
  if (current == team_id) return t;
  if (!current.empty()) {
    return Conflict(fmt::format("user {} is already in another team of this benchmark", user_id));
  }
  // Submissions made alone stay the participant's; a participant who has entered alone cannot
  // then pool a quota with a team.
  ASSIGN_OR_RETURN(auto alone, tx.Query("SELECT 1 FROM submissions WHERE benchmark_id = $1 AND "
                                        "user_id = $2 AND team_id = '' LIMIT 1",
                                        {t.benchmark_id, user_id}));
  if (!alone.empty()) {
    return Conflict(fmt::format(
        "user {} has already submitted alone to this benchmark and cannot join a team", user_id));
  }
  RETURN_IF_ERROR(tx.Exec("INSERT INTO benchmark_team_members (benchmark_id, user_id, team_id, "
                          "joined_at) VALUES ($1, $2, $3, $4)",
                          {t.benchmark_id, user_id, team_id, now})
                      .status());
  t.members.push_back(user_id);
  std::sort(t.members.begin(), t.members.end());
  return t;
}

StatusOr<Team> CreateTeam(Tx& tx, const std::string& benchmark_id, const std::string& name,
                          const std::string& user_id, int64_t now) {
  if (name.empty() || name.size() > 100) return InvalidArgument("a team's name: 1-100 characters");
  std::string id = NewId("team");
  auto n = tx.Exec(
      "INSERT INTO benchmark_teams (id, benchmark_id, name, created_by, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {id, benchmark_id, name, user_id, now});
  if (n.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("a team named '{}' exists on this benchmark", name));
  }
  RETURN_IF_ERROR(n.status());
  return AddTeamMember(tx, id, user_id, now);
}

// ---- submissions

StatusOr<QuotaUse> QuotaOf(Tx& tx, const std::string& phase_id, const std::string& entrant,
                           int64_t now) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT created_at FROM submissions WHERE phase_id = $1 "
                                       "AND entrant = $2 AND counted = 1",
                                       {phase_id, entrant}));
  QuotaUse q;
  int64_t day = now - now % kDayMs;
  for (const Row& r : rows) {
    q.total++;
    if (r.Int(0) >= day) q.today++;
  }
  return q;
}

StatusOr<Submission> CreateSubmission(Tx& tx, const std::string& id, const NewSubmission& n,
                                      int64_t now) {
  ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, n.benchmark_id));
  ASSIGN_OR_RETURN(const Phase* phase, b.FindPhase(n.phase, now));
  if (now < phase->starts_at) {
    return Conflict(fmt::format("phase {} opens at {}", phase->name, FormatTime(phase->starts_at)));
  }
  if (now >= phase->ends_at) {
    return Conflict(fmt::format("phase {} has ended", phase->name));
  }
  if (n.size > b.rules.max_bytes) {
    return InvalidArgument(fmt::format("the file has {} bytes; this benchmark takes at most {}",
                                       n.size, b.rules.max_bytes));
  }
  ASSIGN_OR_RETURN(std::string team, TeamOf(tx, b.id, n.user_id));
  std::string entrant = team.empty() ? n.user_id : team;
  ASSIGN_OR_RETURN(QuotaUse q, QuotaOf(tx, phase->id, entrant, now));
  if (q.today >= b.rules.max_per_day) {
    return ResourceExhausted(fmt::format(
        "{} submissions counted today on phase {} (at most {} a day); cancelled, invalid and "
        "failed ones are not counted",
        q.today, phase->name, b.rules.max_per_day));
  }
  if (q.total >= b.rules.max_total) {
    return ResourceExhausted(fmt::format("{} submissions counted on phase {} (at most {})", q.total,
                                         phase->name, b.rules.max_total));
  }
  Submission s;
  s.id = id;
  s.benchmark_id = b.id;
  s.phase_id = phase->id;
  s.user_id = n.user_id;
  s.team_id = team;
  s.entrant = entrant;
  s.kind = n.kind;
  s.format = n.format;
  s.description = n.description;
  s.sha256 = n.sha256;
  s.size = n.size;
  s.rows = n.rows;
  s.created_at = s.updated_at = now;
  RETURN_IF_ERROR(tx.Exec(fmt::format("INSERT INTO submissions ({}) VALUES ($1, $2, $3, $4, $5, "
                                      "$6, $7, $8, $9, $10, $11, $12, 'queued', 1, '', 0, '', 0, "
                                      "'', '', '', $13, $13, 0, '', 0, 0)",
                                      kSubmissionCols),
                          {s.id, s.benchmark_id, s.phase_id, s.user_id, s.team_id, s.entrant,
                           s.kind, s.format, s.description, s.sha256, s.size, s.rows, now})
                      .status());
  RETURN_IF_ERROR(AddEvent(tx, s.id, "queued", now, ""));
  s.events.push_back({"queued", now, ""});
  return s;
}

StatusOr<Submission> GetSubmission(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM submissions WHERE id = $1", kSubmissionCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("no submission {}", id));
  Submission s = SubmissionFromRow(rows[0]);
  ASSIGN_OR_RETURN(auto events, tx.Query("SELECT state, at, note FROM submission_events WHERE "
                                         "submission_id = $1 ORDER BY seq",
                                         {id}));
  for (const Row& r : events) s.events.push_back({r.Str(0), r.Int(1), r.Str(2)});
  return s;
}

StatusOr<std::vector<Submission>> ListSubmissions(Tx& tx, const SubmissionQuery& q) {
  // A page of each phase along its index (by entrant for a participant), merged in id order.
  std::vector<std::string> phases;
  if (!q.phase_id.empty()) {
    phases.push_back(q.phase_id);
  } else {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM benchmark_phases WHERE benchmark_id = $1",
                                         {q.benchmark_id}));
    for (const Row& r : rows) phases.push_back(r.Str(0));
  }
  std::string entrant;
  if (!q.user_id.empty()) {
    ASSIGN_OR_RETURN(std::string team, TeamOf(tx, q.benchmark_id, q.user_id));
    entrant = team.empty() ? q.user_id : team;
  }
  std::vector<Submission> out;
  for (const auto& phase : phases) {
    std::vector<Value> params = {q.cursor, int64_t{q.limit}, phase};
    std::string where = "phase_id = $3";
    if (!entrant.empty()) {
      params.push_back(entrant);
      where += " AND entrant = $4";
    }
    ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM submissions WHERE {} AND id "
                                                     "> $1 ORDER BY id LIMIT $2",
                                                     kSubmissionCols, where),
                                         params));
    for (const Row& r : rows) out.push_back(SubmissionFromRow(r));
  }
  std::sort(out.begin(), out.end(),
            [](const Submission& a, const Submission& b) { return a.id < b.id; });
  if (static_cast<int>(out.size()) > q.limit) out.resize(q.limit);
  return out;
}

StatusOr<Submission> CancelSubmission(Tx& tx, const std::string& id, int64_t now) {
  ASSIGN_OR_RETURN(Submission s, GetSubmission(tx, id));
  if (IsTerminalSubmissionState(s.state)) {
    return Conflict(
        fmt::format("submission {} has ended ({}); only a waiting one is cancelled", id, s.state));
  }
  // A run under way is charged for its time so far (its program is left to end on its own; what
  // it gives is not scored).
  RETURN_IF_ERROR(SettleRun(tx, &s, now, now));
  RETURN_IF_ERROR(SetState(tx, &s, "cancelled", "cancelled by its owner", now));
  return GetSubmission(tx, id);
}

StatusOr<Submission> RescoreSubmission(Tx& tx, const std::string& id, int64_t now) {
  ASSIGN_OR_RETURN(Submission s, GetSubmission(tx, id));
  if (s.state == "cancelled" || s.state == "invalid") {
    return Conflict(fmt::format("submission {} is {}; it is not scored", id, s.state));
  }
  if (s.state == "queued") return s;
  s.attempts = 0;
  RETURN_IF_ERROR(SetState(tx, &s, "queued", "re-score asked by an organiser", now));
  ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, s.benchmark_id));
  RETURN_IF_ERROR(RecomputeEntry(tx, b, s.phase_id, s.entrant));
  return GetSubmission(tx, id);
}

StatusOr<int64_t> RescorePhase(Tx& tx, const std::string& phase_id, int64_t now) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM submissions WHERE phase_id = $1 AND state "
                                       "IN ('scored', 'failed') ORDER BY id",
                                       {phase_id}));
  for (const Row& r : rows) RETURN_IF_ERROR(RescoreSubmission(tx, r.Str(0), now).status());
  return static_cast<int64_t>(rows.size());
}

// ---- leases

StatusOr<std::optional<Submission>> ClaimSubmission(Tx& tx, const std::string& owner,
                                                    const LeaseOptions& o, int64_t now) {
  for (;;) {
    // A lost lease first (the oldest loss), then the oldest queued: each along the state index
    // (a queued submission holds no lease: its lease_expires_at is 0).
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM submissions WHERE state = 'scoring' AND "
                                         "lease_expires_at < $1 ORDER BY lease_expires_at LIMIT 1",
                                         {now}));
    if (rows.empty()) {
      ASSIGN_OR_RETURN(rows, tx.Query("SELECT id FROM submissions WHERE state = 'queued' AND "
                                      "lease_expires_at = 0 ORDER BY id LIMIT 1"));
    }
    if (rows.empty()) return std::optional<Submission>();
    ASSIGN_OR_RETURN(Submission s, GetSubmission(tx, rows[0].Str(0)));
    if (s.state == "scoring") {
      // A lost lease's run, if one was going, held its core until its last heartbeat.
      RETURN_IF_ERROR(SettleRun(tx, &s, std::max(s.run_seen_at, s.run_started_at), now));
    }
    if (s.state == "scoring" && s.attempts >= o.max_attempts) {
      RETURN_IF_ERROR(SetState(tx, &s, "failed",
                               fmt::format("scoring was interrupted {} times (the server stopped "
                                           "or lost its lease); not counted",
                                           s.attempts),
                               now));
      continue;
    }
    s.attempts++;
    s.lease_owner = owner;
    s.lease_expires_at = now + o.lease_ms;
    std::string note =
        s.attempts > 1 ? fmt::format("attempt {} (the last one's lease was lost)", s.attempts) : "";
    RETURN_IF_ERROR(SetState(tx, &s, "scoring", note, now));
    return std::optional<Submission>(std::move(s));
  }
}

Status RenewLease(Tx& tx, const std::string& id, const std::string& owner, const LeaseOptions& o,
                  int64_t now) {
  ASSIGN_OR_RETURN(auto n, tx.Exec("UPDATE submissions SET lease_expires_at = $3, run_seen_at = $4 "
                                   "WHERE id = $1 AND lease_owner = $2 AND state = 'scoring'",
                                   {id, owner, now + o.lease_ms, now}));
  if (n == 0) return Aborted(fmt::format("submission {} is no longer leased to this scorer", id));
  return Status::Ok();
}

StatusOr<Submission> FinishScoring(Tx& tx, const std::string& id, const std::string& owner,
                                   const std::string& truth_version_id, const Scores& pub,
                                   const Scores& priv, int64_t now) {
  ASSIGN_OR_RETURN(Submission s, LeasedTo(tx, id, owner));
  RETURN_IF_ERROR(SettleRun(tx, &s, now, now));
  RETURN_IF_ERROR(tx.Exec("UPDATE submissions SET truth_version_id = $2, scores_public = $3, "
                          "scores_private = $4, scored_at = $5 WHERE id = $1",
                          {id, truth_version_id, ScoresJson(pub), ScoresJson(priv), now})
                      .status());
  RETURN_IF_ERROR(SetState(tx, &s, "scored", "", now));
  ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, s.benchmark_id));
  RETURN_IF_ERROR(RecomputeEntry(tx, b, s.phase_id, s.entrant));
  return GetSubmission(tx, id);
}

StatusOr<Submission> EndUnscored(Tx& tx, const std::string& id, const std::string& owner,
                                 const std::string& state, const std::string& reason, int64_t now) {
  if (state != "invalid" && state != "failed") return Internal("EndUnscored: invalid or failed");
  ASSIGN_OR_RETURN(Submission s, LeasedTo(tx, id, owner));
  RETURN_IF_ERROR(SettleRun(tx, &s, now, now));
  RETURN_IF_ERROR(SetState(tx, &s, state, reason, now));
  return GetSubmission(tx, id);
}

Status StartRun(Tx& tx, const std::string& id, const std::string& owner, int64_t now) {
  ASSIGN_OR_RETURN(Submission s, LeasedTo(tx, id, owner));
  ASSIGN_OR_RETURN(Benchmark b, GetBenchmark(tx, s.benchmark_id));
  return BeginRun(tx, &s, b, now);
}

Status EndRun(Tx& tx, const std::string& id, const std::string& owner, int64_t now) {
  ASSIGN_OR_RETURN(Submission s, LeasedTo(tx, id, owner));
  return SettleRun(tx, &s, now, now);
}

// ---- leaderboards

StatusOr<int64_t> LeaderboardSize(Tx& tx, const std::string& phase_id) {
  // Kept by WriteEntry: one row, not a count of the phase's entries on every page.
  ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT entries FROM leaderboard_sizes WHERE phase_id = $1", {phase_id}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

StatusOr<std::vector<LeaderboardRow>> Leaderboard(Tx& tx, const Benchmark& b,
                                                  const LeaderboardQuery& q) {
  const MetricChoice& primary = b.primary();
  std::string metric = q.metric.empty() ? primary.name : q.metric;
  auto choice = std::find_if(b.metrics.begin(), b.metrics.end(),
                             [&](const MetricChoice& m) { return m.name == metric; });
  if (choice == b.metrics.end()) {
    return InvalidArgument(fmt::format("benchmark {} has no metric '{}'", b.name, metric));
  }
  const char* order = choice->higher_is_better ? "DESC" : "ASC";
  const char* better = choice->higher_is_better ? ">" : "<";
  // An entry's row as the page shows it; `value` is the ranking metric's.
  auto entry_of = [&](const Row& r, double value) {
    LeaderboardRow l;
    l.entrant = r.Str(0);
    l.submission_id = r.Str(1);
    l.user_id = r.Str(2);
    l.team_id = r.Str(3);
    l.scores = ScoresFrom(r.Str(q.private_split ? 5 : 4));
    l.submitted_at = r.Int(6);
    l.primary = value;
    return l;
  };
  constexpr const char* kEntryCols =
      "entrant, submission_id, user_id, team_id, scores_public, scores_private, submitted_at";
  std::vector<LeaderboardRow> out;
  int64_t strictly_better = 0;  // entries ranked strictly above the page's first row
  if (metric == primary.name) {
    // The primary metric's scores are columns of the entries, each split with its own index.
    const char* column = q.private_split ? "private_primary" : "public_primary";
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(fmt::format("SELECT {2}, {0} FROM leaderboard_entries WHERE "
                                          "phase_id = $1 ORDER BY {0} {1}, entrant LIMIT $2 "
                                          "OFFSET $3",
                                          column, order, kEntryCols),
                              {q.phase_id, int64_t{q.limit}, q.offset}));
    if (rows.empty()) return out;
    for (const Row& r : rows) out.push_back(entry_of(r, r.Double(7)));
    // The first row's rank: one more than the entries strictly better.
    ASSIGN_OR_RETURN(auto n, tx.Query(fmt::format("SELECT COUNT(*) FROM leaderboard_entries WHERE "
                                                  "phase_id = $1 AND {} {} $2",
                                                  column, better),
                                      {q.phase_id, out.front().primary}));
    strictly_better = n[0].Int(0);
  } else {
    // Another metric: the page along leaderboard_scores' index (phase, split, metric, value,
    // entrant), skipping the offset on that narrow index alone, then the page's entries by their
    // key, put in the page's order; the rank of the first row as for the primary.
    std::string split = q.private_split ? "private" : "public";
    ASSIGN_OR_RETURN(auto page,
                     tx.Query(fmt::format("SELECT entrant, value FROM leaderboard_scores WHERE "
                                          "phase_id = $1 AND split = $2 AND metric = $3 ORDER BY "
                                          "value {0}, entrant LIMIT $4 OFFSET $5",
                                          order),
                              {q.phase_id, split, metric, int64_t{q.limit}, q.offset}));
    if (page.empty()) return out;
    std::string marks;
    std::vector<Value> args = {q.phase_id};
    for (const Row& r : page) {
      marks += fmt::format("{}${}", marks.empty() ? "" : ", ", args.size() + 1);
      args.emplace_back(r.Str(0));
    }
    ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM leaderboard_entries WHERE "
                                                     "phase_id = $1 AND entrant IN ({})",
                                                     kEntryCols, marks),
                                         args));
    std::map<std::string, const Row*> by_entrant;
    for (const Row& r : rows) by_entrant[r.Str(0)] = &r;
    for (const Row& p : page) {
      auto it = by_entrant.find(p.Str(0));
      if (it == by_entrant.end()) {
        return Internal(fmt::format("leaderboard scores of {} have no entry", p.Str(0)));
      }
      out.push_back(entry_of(*it->second, p.Double(1)));
    }
    ASSIGN_OR_RETURN(auto n, tx.Query(fmt::format("SELECT COUNT(*) FROM leaderboard_scores WHERE "
                                                  "phase_id = $1 AND split = $2 AND metric = $3 "
                                                  "AND value {} $4",
                                                  better),
                                      {q.phase_id, split, metric, out.front().primary}));
    strictly_better = n[0].Int(0);
  }
  // Equal scores share a rank; a new score ranks by its place in the whole ranking.
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].rank = i == 0                                 ? strictly_better + 1
                  : out[i].primary == out[i - 1].primary ? out[i - 1].rank
                                                         : q.offset + static_cast<int64_t>(i) + 1;
  }
  return out;
}

// ---- reports

StatusOr<Report> AddReport(Tx& tx, const std::string& submission_id, const std::string& user_id,
                           const std::string& envelope, int64_t now) {
  // The id is the report's capability (whoever holds it reads the report): all random, unlike
  // the time-ordered ids of other records.
  Report r{"rpt_" + RandomToken(16), submission_id, user_id, "", envelope, now};
  r.sha256 = Sha256Hex(envelope);
  RETURN_IF_ERROR(tx.Exec("INSERT INTO validation_reports (id, submission_id, user_id, sha256, "
                          "envelope, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                          {r.id, r.submission_id, r.user_id, r.sha256, r.envelope, now})
                      .status());
  return r;
}

StatusOr<Report> GetReport(Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, submission_id, user_id, sha256, envelope, "
                                       "created_at FROM validation_reports WHERE id = $1",
                                       {id}));
  if (rows.empty()) return NotFound(fmt::format("no report {}", id));
  const Row& r = rows[0];
  return Report{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5)};
}

StatusOr<std::vector<Report>> ListReports(Tx& tx, const std::string& submission_id,
                                          const std::string& after, int limit) {
  // Along validation_reports_by_submission (submission_id, id).
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, submission_id, user_id, sha256, created_at "
                                       "FROM validation_reports WHERE submission_id = $1 AND id > "
                                       "$2 ORDER BY id LIMIT $3",
                                       {submission_id, after, int64_t{limit}}));
  std::vector<Report> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    out.push_back(Report{r.Str(0), r.Str(1), r.Str(2), r.Str(3), "", r.Int(4)});
  }
  return out;
}

StatusOr<int64_t> CountPublicBenchmarks(Tx& tx, int64_t bound, bool* more) {
  return store::BoundedCount(tx, "SELECT id FROM benchmarks WHERE visibility = 'public'", {}, bound,
                             more);
}

}  // namespace openlab::validation
