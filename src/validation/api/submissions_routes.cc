// Submissions (a predictions file, checked against the phase's test rows before it is taken, so
// a malformed file is refused at once, naming its first bad line, and never counted), their
// state history, cancellation and re-scoring; and the leaderboards they make. Scoring happens in
// the scoring service (validation/service.h), woken after each commit.
#include <fmt/format.h>

#include <any>
#include <boost/json.hpp>
#include <memory>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "data/catalog/datasets.h"
#include "http/render.h"
#include "tenants/tenants.h"
#include "validation/api/routes.h"
#include "validation/code_tree.h"
#include "validation/run_charges.h"
#include "validation/scorer.h"
#include "validation/service.h"
#include "validation/validation.h"

namespace openlab::http {

namespace json = boost::json;
using validation::Benchmark;
using validation::Submission;

Status SubmissionTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(Submission s, validation::GetSubmission(ctx.Tx(), ctx.Param("id")));
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), s.benchmark_id));
  ctx.target_id = s.id;
  RETURN_IF_ERROR(RelateToBenchmark(ctx, b));
  const std::string& uid = ctx.principal.user_id;
  bool self = !uid.empty() && s.user_id == uid;
  if (!self && !uid.empty() && !s.team_id.empty()) {
    ASSIGN_OR_RETURN(std::string team, validation::TeamOf(ctx.Tx(), b.id, uid));
    self = team == s.team_id;
  }
  ctx.relation.self = self;
  return Status::Ok();
}

namespace {

json::object ScoresObject(const validation::Scores& s) {
  json::object o;
  for (const auto& [k, v] : s) o[k] = v;
  return o;
}

// Private scores: to organisers always, to the submitter once the phase has ended.
json::object Render(const Submission& s, bool show_private) {
  json::object o = RenderSubmission(s);
  if (!show_private) o["scores_private"] = nullptr;
  return o;
}

StatusOr<bool> PhaseEnded(Ctx& ctx, const Submission& s) {
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), s.benchmark_id));
  ASSIGN_OR_RETURN(const validation::Phase* p, b.FindPhase(s.phase_id, ctx.now));
  return ctx.now >= p->ends_at;
}

StatusOr<bool> ShowPrivate(Ctx& ctx, const Submission& s) {
  if (IsOrganiser(ctx)) return true;
  return PhaseEnded(ctx, s);
}

// What the prepare step of a submission makes of the request's body: the record to insert, read
// and checked against the phase it was meant for.
struct PreparedSubmission {
  std::string phase_id;
  validation::NewSubmission n;
};

// Reads and checks the body outside the write transaction (a large predictions file parsed
// against the truth, or a code tree unpacked, holds no other writer up); the handler then checks
// the phase and the quota in the transaction, and stores the file.
Status PrepareSubmission(Ctx& ctx, Api& api) {
  validation::ScoringService* scoring = api.options().scoring;
  if (scoring == nullptr) return Unavailable("this server scores no submissions");
  Benchmark b;
  RETURN_IF_ERROR(api.db()->Read([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(b, validation::GetBenchmark(tx, ctx.target_id));
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(const validation::Phase* phase,
                   b.FindPhase(ctx.QueryParam("phase").value_or(""), ctx.now));
  std::string kind = ctx.QueryParam("kind").value_or("predictions");
  if (kind != "predictions" && kind != "code")
    return InvalidArgument("kind is predictions or code");
  std::string description = ctx.QueryParam("description").value_or("");
  if (description.size() > 500) return InvalidArgument("description: at most 500 characters");
  const std::string& bytes = ctx.req->body;
  if (bytes.empty()) {
    return InvalidArgument("the request's body is the predictions file (or the code); it is empty");
  }
  if (static_cast<int64_t>(bytes.size()) > b.rules.max_bytes) {
    return InvalidArgument(fmt::format("the file has {} bytes; this benchmark takes at most {}",
                                       bytes.size(), b.rules.max_bytes));
  }
  auto prepared = std::make_shared<PreparedSubmission>();
  prepared->phase_id = phase->id;
  validation::NewSubmission& n = prepared->n;
  n.kind = kind;
  n.description = description;
  n.size = static_cast<int64_t>(bytes.size());
  if (kind == "code") {
    if (!b.rules.code) return InvalidArgument("this benchmark takes predictions files, not code");
    // The code is checked now; it runs in the sandbox once the scorer takes it. A phase with an
    // ingestion program runs the code through it: no entry command needed.
    ASSIGN_OR_RETURN(auto tree, validation::ParseCodeTree(bytes, /*entry_required=*/false));
    if (tree.entry.empty() && phase->ingestion_version_id.empty()) {
      return InvalidArgument(fmt::format(
          "phase {} runs the code's own entry command: name the command that writes the "
          "predictions (\"entry\"; openlab submit --code DIR --entry CMD)",
          phase->name));
    }
    n.format = "code";
    n.sha256 = validation::CodeTreeDigest(tree);
    n.rows = static_cast<int64_t>(tree.files.size());
  } else {
    std::string format = ctx.QueryParam("format").value_or("");
    if (format.empty()) {
      std::string type = ctx.req->Header("content-type");
      format = type.rfind("application/x-ndjson", 0) == 0 || type.rfind("application/jsonl", 0) == 0
                   ? "jsonl"
                   : "csv";
      // A detection task's COCO results array (its only JSON document among the built-in tasks).
      if (b.task_type == "detection" && type.rfind("application/json", 0) == 0) format = "json";
    }
    n.format = format;
    n.sha256 = Sha256Hex(bytes);
    if (b.task_type == "custom") {
      // The organiser's program reads it (input/res); nothing here knows its shape.
      if (format != "csv" && format != "jsonl" && format != "json" && format != "txt") {
        return InvalidArgument("format is csv, jsonl, json or txt");
      }
    } else {
      if (b.task_type == "detection") {
        // A COCO results array, or JSON lines of one detection each.
        if (format != "json" && format != "jsonl") {
          return InvalidArgument("format is json or jsonl");
        }
      } else if (format != "csv" && format != "jsonl") {
        return InvalidArgument("format is csv or jsonl");
      }
      // Checked against the test rows now: a file that does not fit is refused, never counted.
      auto truth = scoring->TruthOf(b, *phase);
      if (!truth.ok()) {
        return Unavailable(
            "the centre cannot read this phase's ground truth now; its organisers are to mend it");
      }
      ASSIGN_OR_RETURN(auto preds, validation::ParsePredictions(**truth, format, bytes));
      n.rows = preds.rows;
    }
  }
  ctx.prepared = std::shared_ptr<const PreparedSubmission>(std::move(prepared));
  return Status::Ok();
}

Status CreateSubmissionHandler(Ctx& ctx, Api& api) {
  validation::ScoringService* scoring = api.options().scoring;
  const auto* prepared = std::any_cast<std::shared_ptr<const PreparedSubmission>>(&ctx.prepared);
  if (scoring == nullptr || prepared == nullptr) {
    return Internal("a submission reached its handler unprepared");
  }
  // The phase and the quota, now, in the transaction: the phase read when the file was checked
  // must still be the open one.
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(const validation::Phase* phase,
                   b.FindPhase(ctx.QueryParam("phase").value_or(""), ctx.now));
  if (phase->id != (*prepared)->phase_id) {
    return Conflict("the benchmark's phases changed while the file was read; send it again");
  }
  validation::NewSubmission n = (*prepared)->n;
  if (n.kind == "code") RETURN_IF_ERROR(validation::CheckRunCanBePaid(ctx.Tx(), b, ctx.now));
  const std::string& bytes = ctx.req->body;
  n.benchmark_id = b.id;
  n.phase = phase->id;
  n.user_id = ctx.principal.user_id;
  std::string id = NewId("sub");
  ASSIGN_OR_RETURN(Submission s, validation::CreateSubmission(ctx.Tx(), id, n, ctx.now));
  RETURN_IF_ERROR(scoring->StoreFile(id, bytes));
  ctx.after_commit.push_back([scoring] { scoring->Poke(); });
  ctx.audit_object = s.id;
  ctx.audit_detail =
      fmt::format("benchmark={} phase={} sha256={} rows={}", b.name, phase->name, s.sha256, s.rows);
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/submissions/" + s.id);
  ctx.json = Render(s, false);
  return Status::Ok();
}

Status ListSubmissionsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
  validation::SubmissionQuery q;
  q.benchmark_id = b.id;
  if (auto phase = ctx.QueryParam("phase")) {
    ASSIGN_OR_RETURN(const validation::Phase* p, b.FindPhase(*phase, ctx.now));
    q.phase_id = p->id;
  }
  bool organiser = IsOrganiser(ctx);
  bool mine = ctx.QueryParam("mine").value_or("") == "true";
  if (!organiser || mine) {
    if (!ctx.principal.authenticated) return Unauthenticated("sign in to see your submissions");
    q.user_id = ctx.principal.user_id;
  }
  q.cursor = page.after;
  q.limit = page.limit;
  ASSIGN_OR_RETURN(auto items, validation::ListSubmissions(ctx.Tx(), q));
  std::map<std::string, bool> ended;
  for (const auto& p : b.phases) ended[p.id] = ctx.now >= p.ends_at;
  RenderPage(
      ctx, items, page,
      [&](const Submission& s) { return Render(s, organiser || ended[s.phase_id]); },
      +[](const Submission& s) -> const std::string& { return s.id; });
  return Status::Ok();
}

Status ReadSubmissionHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(Submission s, validation::GetSubmission(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(bool show, ShowPrivate(ctx, s));
  ctx.json = Render(s, show);
  return Status::Ok();
}

// A code submission's log: to its submitter where the phase's inputs are not restricted (a log
// could carry restricted data out), to organisers always.
Status LogHandler(Ctx& ctx, Api& api) {
  validation::ScoringService* scoring = api.options().scoring;
  if (scoring == nullptr) return Unavailable("this server scores no submissions");
  ASSIGN_OR_RETURN(Submission s, validation::GetSubmission(ctx.Tx(), ctx.target_id));
  if (s.kind != "code") return NotFound("a predictions file has no log; code submissions do");
  if (!IsOrganiser(ctx)) {
    ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), s.benchmark_id));
    ASSIGN_OR_RETURN(const validation::Phase* p, b.FindPhase(s.phase_id, ctx.now));
    if (!p->input_dataset_id.empty()) {
      ASSIGN_OR_RETURN(auto d, data::GetDataset(ctx.Tx(), p->input_dataset_id));
      if (d.access_level == "restricted") {
        return PermissionDenied(
            "this phase's inputs are restricted: its runs' logs stay with the organisers");
      }
    }
  }
  ASSIGN_OR_RETURN(std::string log, scoring->ReadLog(s.id));
  ctx.raw_body = std::move(log);
  ctx.content_type = "text/plain; charset=utf-8";
  return Status::Ok();
}

Status ChangeSubmissionHandler(Ctx& ctx, Api& api, bool rescore) {
  ASSIGN_OR_RETURN(Submission s,
                   rescore ? validation::RescoreSubmission(ctx.Tx(), ctx.target_id, ctx.now)
                           : validation::CancelSubmission(ctx.Tx(), ctx.target_id, ctx.now));
  if (auto* scoring = api.options().scoring) {
    ctx.after_commit.push_back([scoring] { scoring->Poke(); });
    // A cancelled submission's run here is stopped at once (a scorer elsewhere finds it at its
    // next heartbeat).
    if (!rescore) ctx.after_commit.push_back([scoring, id = s.id] { scoring->StopRunOf(id); });
  }
  ctx.audit_detail = "state=" + s.state;
  ASSIGN_OR_RETURN(bool show, ShowPrivate(ctx, s));
  ctx.json = Render(s, show);
  return Status::Ok();
}

Status RescorePhaseHandler(Ctx& ctx, Api& api) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  auto phase = r.String("phase", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(const validation::Phase* p, b.FindPhase(phase.value_or(""), ctx.now));
  ASSIGN_OR_RETURN(int64_t n, validation::RescorePhase(ctx.Tx(), p->id, ctx.now));
  if (auto* scoring = api.options().scoring) {
    ctx.after_commit.push_back([scoring] { scoring->Poke(); });
  }
  ctx.audit_detail = fmt::format("phase={} submissions={}", p->name, n);
  ctx.json = json::object{{"phase_id", p->id}, {"queued", n}};
  return Status::Ok();
}

// ---- leaderboards

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The rows' names (a team's name, or the username), read in two queries for the whole page.
StatusOr<std::vector<std::string>> EntrantNames(
    Ctx& ctx, const std::vector<validation::LeaderboardRow>& rows) {
  std::vector<std::string> teams, users;
  for (const auto& r : rows)
    (r.team_id.empty() ? users : teams).push_back(r.team_id.empty() ? r.user_id : r.team_id);
  ASSIGN_OR_RETURN(auto team_names, validation::TeamNames(ctx.Tx(), teams));
  ASSIGN_OR_RETURN(auto user_rows, tenants::GetUsers(ctx.Tx(), users));
  std::vector<std::string> out;
  for (const auto& r : rows) {
    if (!r.team_id.empty()) {
      auto it = team_names.find(r.team_id);
      out.push_back(it == team_names.end() ? r.team_id : it->second);
    } else {
      auto it = user_rows.find(r.user_id);
      out.push_back(it == user_rows.end() ? r.user_id : it->second.username);
    }
  }
  return out;
}

Status LeaderboardHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(const validation::Phase* phase,
                   b.FindPhase(ctx.QueryParam("phase").value_or(""), ctx.now));
  std::string split = ctx.QueryParam("split").value_or("public");
  if (split != "public" && split != "private") return InvalidArgument("split is public or private");
  bool ended = ctx.now >= phase->ends_at;
  if (split == "private" && !ended && !IsOrganiser(ctx)) {
    return PermissionDenied(
        fmt::format("the private ranking of phase {} is shown when the phase ends ({})",
                    phase->name, FormatTime(phase->ends_at)));
  }
  validation::LeaderboardQuery q;
  q.phase_id = phase->id;
  q.private_split = split == "private";
  q.metric = ctx.QueryParam("metric").value_or("");
  auto number = [&](const char* name, int64_t dflt, int64_t max) -> StatusOr<int64_t> {
    auto v = ctx.QueryParam(name);
    if (!v) return dflt;
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 0 || n > max) {
      return InvalidArgument(fmt::format("{} must be a whole number from 0 to {}", name, max));
    }
    return static_cast<int64_t>(n);
  };
  ASSIGN_OR_RETURN(q.offset, number("offset", 0, 100000000));
  ASSIGN_OR_RETURN(int64_t limit, number("limit", 100, 1000));
  q.limit = static_cast<int>(std::max<int64_t>(limit, 1));
  bool csv = ctx.QueryParam("format").value_or("json") == "csv";
  if (csv) {
    q.offset = 0;
    q.limit = 100000;
  }
  ASSIGN_OR_RETURN(auto rows, validation::Leaderboard(ctx.Tx(), b, q));
  ASSIGN_OR_RETURN(int64_t total, validation::LeaderboardSize(ctx.Tx(), phase->id));
  std::string metric = q.metric.empty() ? b.primary().name : q.metric;
  if (csv) {
    std::string out = "rank,entrant,name,team_id,user_id,submission_id,score";
    for (const auto& m : b.metrics) out += "," + CsvField(m.name);
    out += ",submitted_at\n";
    ASSIGN_OR_RETURN(auto names, EntrantNames(ctx, rows));
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      const std::string& name = names[i];
      out += fmt::format("{},{},{},{},{},{},{}", r.rank, r.entrant, CsvField(name), r.team_id,
                         r.user_id, r.submission_id, r.primary);
      for (const auto& m : b.metrics) {
        auto it = r.scores.find(m.name);
        out += it == r.scores.end() ? "," : fmt::format(",{}", it->second);
      }
      out += "," + FormatTime(r.submitted_at) + "\n";
    }
    ctx.raw_body = std::move(out);
    ctx.content_type = "text/csv; charset=utf-8";
    ctx.headers.emplace_back(
        "content-disposition",
        fmt::format("attachment; filename=\"{}-{}-{}.csv\"", b.name, phase->name, split));
    return Status::Ok();
  }
  json::array items;
  ASSIGN_OR_RETURN(auto names, EntrantNames(ctx, rows));
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::string& name = names[i];
    items.push_back(json::object{{"rank", r.rank},
                                 {"entrant", r.entrant},
                                 {"name", name},
                                 {"team_id", r.team_id},
                                 {"user_id", r.user_id},
                                 {"submission_id", r.submission_id},
                                 {"score", r.primary},
                                 {"scores", ScoresObject(r.scores)},
                                 {"submitted_at", TimeOrNull(r.submitted_at)}});
  }
  auto choice = std::find_if(b.metrics.begin(), b.metrics.end(),
                             [&](const auto& m) { return m.name == metric; });
  int64_t next = q.offset + static_cast<int64_t>(rows.size());
  ctx.json =
      json::object{{"benchmark_id", b.id},
                   {"phase_id", phase->id},
                   {"phase", phase->name},
                   {"split", split},
                   {"metric", metric},
                   {"higher_is_better", choice == b.metrics.end() || choice->higher_is_better},
                   {"phase_ended", ended},
                   {"total", total},
                   {"offset", q.offset},
                   {"items", std::move(items)},
                   {"next_offset", next < total ? json::value(next) : json::value(nullptr)}};
  return Status::Ok();
}

}  // namespace

json::object RenderSubmission(const Submission& s) {
  json::array events;
  for (const auto& e : s.events) {
    events.push_back(json::object{{"state", e.state}, {"at", TimeOrNull(e.at)}, {"note", e.note}});
  }
  return json::object{{"id", s.id},
                      {"benchmark_id", s.benchmark_id},
                      {"phase_id", s.phase_id},
                      {"user_id", s.user_id},
                      {"team_id", s.team_id},
                      {"kind", s.kind},
                      {"format", s.format},
                      {"description", s.description},
                      {"sha256", s.sha256},
                      {"size", s.size},
                      {"rows", s.rows},
                      {"state", s.state},
                      {"reason", s.reason},
                      {"counted", s.counted},
                      {"attempts", s.attempts},
                      {"truth_version_id", s.truth_version_id},
                      {"scores_public", ScoresObject(s.scores_public)},
                      {"scores_private", ScoresObject(s.scores_private)},
                      {"created_at", TimeOrNull(s.created_at)},
                      {"updated_at", TimeOrNull(s.updated_at)},
                      {"scored_at", TimeOrNull(s.scored_at)},
                      {"events", std::move(events)}};
}

void RegisterSubmissionRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  Route create{"POST",
               "/api/v1/benchmarks/{id}/submissions",
               "submissions.create",
               BenchmarkTarget,
               StoreUse::kWrite,
               [&api](Ctx& ctx) { return CreateSubmissionHandler(ctx, api); },
               "Submit a predictions file (the request's body: text/csv, or JSON lines with "
               "application/x-ndjson), checked against the test rows at once and scored soon "
               "after; or, with ?kind=code where the benchmark takes code, the code as "
               "{\"entry\", \"files\"} (run in the sandbox, no network, on the phase's inputs)",
               {},
               {"phase", "format", "description", "kind"},
               false,
               201};
  create.max_body = size_t{1} << 30;
  create.authorize_before_prepare = true;
  create.prepare = [&api](Ctx& ctx) { return PrepareSubmission(ctx, api); };
  add(std::move(create));
  // A submission's private scores open with time (the phase's end), not with a write: these
  // reads are not cached.
  Route list{"GET",
             "/api/v1/benchmarks/{id}/submissions",
             "submissions.list",
             BenchmarkTarget,
             StoreUse::kRead,
             ListSubmissionsHandler,
             "Submissions: a participant's own and their team's; every one to organisers "
             "(?mine=true: their own)",
             {},
             {"phase", "mine"},
             true};
  list.cacheable = false;
  add(std::move(list));
  add({"POST",
       "/api/v1/benchmarks/{id}/rescore",
       "benchmarks.rescore",
       BenchmarkTarget,
       StoreUse::kWrite,
       [&api](Ctx& ctx) { return RescorePhaseHandler(ctx, api); },
       "Score every scored or failed submission of a phase again (after a new ground truth)",
       {F{"phase", "string", false, "name or id; the current phase by default"}}});
  Route board{"GET",
              "/api/v1/benchmarks/{id}/leaderboard",
              "leaderboard.read",
              BenchmarkTarget,
              StoreUse::kRead,
              LeaderboardHandler,
              "A phase's ranking (the counted submission per entrant; equal scores share a "
              "rank); ?split=private once the phase has ended (organisers: always); ?metric= "
              "ranks by another metric; ?format=csv exports it",
              {},
              {"phase", "split", "metric", "offset", "limit", "format"}};
  board.cacheable = false;  // the private split opens with time, not with a write
  add(std::move(board));
  Route read{"GET",
             "/api/v1/submissions/{id}",
             "submissions.read",
             SubmissionTarget,
             StoreUse::kRead,
             ReadSubmissionHandler,
             "One submission: state and its history with times, scores (private ones once the "
             "phase has ended)"};
  read.cacheable = false;
  add(std::move(read));
  Route log{"GET",
            "/api/v1/submissions/{id}/log",
            "submissions.read",
            SubmissionTarget,
            StoreUse::kRead,
            [&api](Ctx& ctx) { return LogHandler(ctx, api); },
            "What a code submission's run printed (the tails of stdout and stderr): to its "
            "submitter unless the phase's inputs are restricted, to organisers always"};
  log.cacheable = false;  // written by the scorer outside the store
  add(std::move(log));
  add({"POST", "/api/v1/submissions/{id}/cancel", "submissions.cancel", SubmissionTarget,
       StoreUse::kWrite, [&api](Ctx& ctx) { return ChangeSubmissionHandler(ctx, api, false); },
       "Cancel a submission not yet scored (it no longer counts)"});
  add({"POST", "/api/v1/submissions/{id}/rescore", "submissions.rescore", SubmissionTarget,
       StoreUse::kWrite, [&api](Ctx& ctx) { return ChangeSubmissionHandler(ctx, api, true); },
       "Score a submission again against its phase's current ground truth"});
}

}  // namespace openlab::http
