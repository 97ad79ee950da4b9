// Benchmarks: created by a project's PI or co-PI, with their phases (each pinning its inputs'
// and its hidden ground truth's dataset versions), metrics and rules; edited without losing
// submissions; invitations (visibility "invite") and teams. The split key never leaves.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "common/json_util.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "validation/api/routes.h"
#include "validation/scorer.h"
#include "validation/service.h"
#include "validation/validation.h"

namespace openlab::http {

namespace json = boost::json;
using validation::Benchmark;

Status RelateToBenchmark(Ctx& ctx, const Benchmark& b) {
  ASSIGN_OR_RETURN(auto a, validation::AccessOf(ctx.Tx(), b, ctx.principal.user_id));
  auth::Relation& r = ctx.relation;
  r.org_role = a.org_role;
  r.project_role = a.project_role;
  r.meta_visible = a.visible;
  r.data_audience = a.participant;
  r.public_meta = b.visibility == "public";
  r.public_data = false;  // taking part needs an account
  return Status::Ok();
}

Status BenchmarkTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = b.id;
  return RelateToBenchmark(ctx, b);
}

Status TeamTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto t, validation::GetTeam(ctx.Tx(), ctx.Param("id")));
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), t.benchmark_id));
  ctx.target_id = t.id;
  RETURN_IF_ERROR(RelateToBenchmark(ctx, b));
  const std::string& uid = ctx.principal.user_id;
  ctx.relation.self =
      !uid.empty() && std::find(t.members.begin(), t.members.end(), uid) != t.members.end();
  return Status::Ok();
}

bool IsOrganiser(const Ctx& ctx) { return ctx.Authorize("benchmarks.manage").ok(); }

namespace {

json::object RenderPhase(const validation::Phase& p) {
  return json::object{{"id", p.id},
                      {"name", p.name},
                      {"starts_at", TimeOrNull(p.starts_at)},
                      {"ends_at", TimeOrNull(p.ends_at)},
                      {"input_dataset_id", p.input_dataset_id},
                      {"input_version_id", p.input_version_id},
                      {"truth_dataset_id", p.truth_dataset_id},
                      {"truth_version_id", p.truth_version_id},
                      {"truth_file", p.truth_file},
                      {"scoring_program_dataset_id", p.program_dataset_id},
                      {"scoring_program_version_id", p.program_version_id},
                      {"ingestion_program_dataset_id", p.ingestion_dataset_id},
                      {"ingestion_program_version_id", p.ingestion_version_id}};
}

StatusOr<validation::Rules> ReadRules(const Ctx& ctx, const json::object* v,
                                      validation::Rules base) {
  if (v == nullptr) return base;
  JsonReader r(*v);
  auto per_day = r.Int("max_per_day", false, 1, 10000);
  auto total = r.Int("max_total", false, 1, 1000000);
  auto bytes = r.Int("max_bytes", false, 1, int64_t{1} << 30);
  auto counts = r.String("counts", {.max_len = 10});
  auto code = r.Bool("code", false);
  auto runtime = r.Int("max_runtime_s", false, 1, 86400);
  auto memory = r.Int("max_memory_mb", false, 64, 1 << 20);
  auto charge = r.String("code_charge", {.max_len = 20});
  RETURN_IF_ERROR(r.Finish());
  if (charge && *charge != base.code_charge) {
    if (*charge != "organiser" && *charge != "centre") {
      return InvalidArgument("rules.code_charge must be 'organiser' or 'centre'");
    }
    // Who pays is the centre's decision when it is the centre.
    if (!ctx.principal.HasRole("operator")) {
      return PermissionDenied(
          "only an operator changes rules.code_charge (whether the centre pays for code runs)");
    }
    base.code_charge = *charge;
  }
  if (code) base.code = *code;
  if (runtime) base.max_runtime_s = *runtime;
  if (memory) base.max_memory_mb = *memory;
  if (per_day) base.max_per_day = *per_day;
  if (total) base.max_total = *total;
  if (bytes) base.max_bytes = *bytes;
  if (counts) base.counts = *counts;
  return base;
}

StatusOr<validation::Phase> ReadPhase(const json::value& v) {
  if (!v.is_object()) return InvalidArgument("each phase is an object");
  JsonReader r(v.as_object());
  validation::Phase p;
  auto name = r.String("name", {.required = true, .max_len = 64});
  auto starts = r.String("starts_at", {.required = true, .max_len = 40});
  auto ends = r.String("ends_at", {.required = true, .max_len = 40});
  auto in_ds = r.String("input_dataset", {.max_len = 100});
  auto in_v = r.String("input_version", {.max_len = 64});
  auto t_ds = r.String("truth_dataset", {.required = true, .max_len = 100});
  auto t_v = r.String("truth_version", {.max_len = 64});
  auto t_f = r.String("truth_file", {.max_len = 500});
  auto prog_ds = r.String("scoring_program_dataset", {.max_len = 100});
  auto prog_v = r.String("scoring_program_version", {.max_len = 64});
  auto ing_ds = r.String("ingestion_program_dataset", {.max_len = 100});
  auto ing_v = r.String("ingestion_program_version", {.max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  p.ingestion_dataset_id = ing_ds.value_or("");
  p.ingestion_version_id = ing_v.value_or("");
  p.program_dataset_id = prog_ds.value_or("");
  p.program_version_id = prog_v.value_or("");
  p.name = *name;
  ASSIGN_OR_RETURN(p.starts_at, ParseTime(*starts, "starts_at"));
  ASSIGN_OR_RETURN(p.ends_at, ParseTime(*ends, "ends_at"));
  p.input_dataset_id = in_ds.value_or("");
  p.input_version_id = in_v.value_or("latest");
  p.truth_dataset_id = *t_ds;
  p.truth_version_id = t_v.value_or("latest");
  p.truth_file = t_f.value_or("truth.csv");
  return p;
}

StatusOr<std::vector<validation::Phase>> ReadPhases(const json::array* a) {
  std::vector<validation::Phase> out;
  if (a == nullptr) return out;
  for (const auto& v : *a) {
    ASSIGN_OR_RETURN(auto p, ReadPhase(v));
    out.push_back(std::move(p));
  }
  return out;
}

// Before the transaction of a create or an edit (the truth may be large): each phase given is
// pinned as the handler will pin it, and its ground truth read and parsed as the task's and
// checked to serve the metrics, so that an organiser learns of a truth that does not fit when
// publishing it, not from each submission ending invalid. What is wrong with the body itself is
// left to the handler, which says so in its own words.
Status CheckTruthsPrepare(Ctx& ctx, Api& api, bool create) {
  validation::ScoringService* scoring = api.options().scoring;
  if (scoring == nullptr) return Status::Ok();  // nothing would read the truth here
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  const json::value* given = body.if_contains("phases");
  if (given == nullptr || !given->is_array()) return Status::Ok();
  auto phases = ReadPhases(&given->as_array());
  if (!phases.ok()) return Status::Ok();
  std::string project_id, task_type;
  std::vector<std::string> metrics;
  if (create) {
    const json::value* project = body.if_contains("project_id");
    const json::value* task = body.if_contains("task_type");
    const json::value* chosen = body.if_contains("metrics");
    if (project == nullptr || !project->is_string() || task == nullptr || !task->is_string() ||
        chosen == nullptr || !chosen->is_array()) {
      return Status::Ok();
    }
    project_id = std::string(project->as_string());
    task_type = std::string(task->as_string());
    for (const auto& m : chosen->as_array()) {
      if (m.is_string()) metrics.emplace_back(m.as_string());
      const json::value* n = m.is_object() ? m.as_object().if_contains("name") : nullptr;
      if (n != nullptr && n->is_string()) metrics.emplace_back(n->as_string());
    }
  } else {
    RETURN_IF_ERROR(api.db()->Read([&](store::Tx& tx) -> Status {
      ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(tx, ctx.target_id));
      project_id = b.project_id;
      task_type = b.task_type;
      for (const auto& m : b.metrics) metrics.push_back(m.name);
      return Status::Ok();
    }));
  }
  if (task_type == "custom" || validation::MetricsFor(task_type).empty()) return Status::Ok();
  for (validation::Phase& p : *phases) {
    RETURN_IF_ERROR(api.db()->Read(
        [&](store::Tx& tx) { return validation::PinPhase(tx, project_id, task_type, &p); }));
    RETURN_IF_ERROR(scoring->CheckTruth(task_type, p, metrics));
  }
  return Status::Ok();
}

Status CreateBenchmarkHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  JsonReader r(body);
  Benchmark b;
  auto project = r.String("project_id", {.required = true, .max_len = 64});
  auto name = r.String("name", {.required = true, .max_len = 64});
  auto title = r.String("title", {.required = true, .max_len = 200});
  auto description = r.String("description", {.max_len = 20000});
  auto task = r.String("task_type", {.required = true, .max_len = 40});
  auto visibility = r.String("visibility", {.max_len = 40});
  auto orgs = r.StringList("orgs", false, 100, 64);
  auto fraction = r.Number("public_fraction", false, 0.001, 1.0);
  const json::array* metrics = r.Array("metrics", true, 20);
  const json::object* rules = r.Object("rules", false);
  const json::array* phases = r.Array("phases", true, 20);
  RETURN_IF_ERROR(r.Finish());
  b.project_id = *project;
  b.name = *name;
  b.title = *title;
  b.description = description.value_or("");
  b.task_type = *task;
  b.visibility = visibility.value_or("registered");
  b.orgs = orgs.value_or(std::vector<std::string>{});
  if (fraction) b.public_permille = std::lround(*fraction * 1000);
  for (const auto& m : *metrics) {
    validation::MetricChoice c;
    if (m.is_string()) {
      c.name = std::string(m.as_string());
    } else if (m.is_object()) {
      JsonReader mr(m.as_object());
      auto n = mr.String("name", {.required = true, .max_len = 64});
      auto primary = mr.Bool("primary", false);
      auto higher = mr.Bool("higher_is_better", false);  // custom tasks: the organiser says
      RETURN_IF_ERROR(mr.Finish());
      c.name = *n;
      c.primary = primary.value_or(false);
      c.higher_is_better = higher.value_or(true);
    } else {
      return InvalidArgument("each metric is a name or {\"name\", \"primary\"}");
    }
    b.metrics.push_back(std::move(c));
  }
  ASSIGN_OR_RETURN(b.rules, ReadRules(ctx, rules, validation::Rules{}));
  ASSIGN_OR_RETURN(b.phases, ReadPhases(phases));
  b.created_by = ctx.principal.user_id;
  ASSIGN_OR_RETURN(b, validation::CreateBenchmark(ctx.Tx(), std::move(b), ctx.now));
  ctx.audit_object = b.id;
  ctx.audit_detail =
      fmt::format("name={} task={} visibility={}", b.name, b.task_type, b.visibility);
  RenderCreated(ctx, "/api/v1/benchmarks/" + b.id, b.version, RenderBenchmark(b));
  return Status::Ok();
}

Status EditBenchmarkHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  ASSIGN_OR_RETURN(auto if_match, ctx.IfMatch());
  JsonReader r(body);
  validation::BenchmarkEdit e;
  e.title = r.String("title", {.max_len = 200});
  e.description = r.String("description", {.max_len = 20000});
  e.visibility = r.String("visibility", {.max_len = 40});
  e.orgs = r.StringList("orgs", false, 100, 64);
  const json::object* rules = r.Object("rules", false);
  const json::array* phases = r.Array("phases", false, 20);
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(Benchmark current, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
  if (rules != nullptr) {
    ASSIGN_OR_RETURN(auto rr, ReadRules(ctx, rules, current.rules));
    e.rules = rr;
  }
  if (phases != nullptr) {
    ASSIGN_OR_RETURN(auto ps, ReadPhases(phases));
    e.phases = std::move(ps);
  }
  ASSIGN_OR_RETURN(auto out,
                   validation::EditBenchmark(ctx.Tx(), ctx.target_id, e, if_match, ctx.now));
  json::object o = RenderBenchmark(out.benchmark);
  json::array changed;
  for (const auto& id : out.truth_changed) changed.push_back(json::value(id));
  o["truth_changed"] = std::move(changed);
  ctx.audit_detail = fmt::format("truth_changed={}", out.truth_changed.size());
  RenderVersioned(ctx, out.benchmark.version, std::move(o));
  return Status::Ok();
}

Status ListBenchmarksHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  std::string uid = ctx.principal.authenticated ? ctx.principal.user_id : "";
  ASSIGN_OR_RETURN(auto items, validation::ListBenchmarks(ctx.Tx(), uid, page.after, page.limit));
  RenderPage(
      ctx, items, page, RenderBenchmark,
      +[](const Benchmark& b) -> const std::string& { return b.id; });
  return Status::Ok();
}

json::object RenderTeam(const validation::Team& t) {
  json::array members;
  for (const auto& m : t.members) members.push_back(json::value(m));
  return json::object{{"id", t.id},
                      {"benchmark_id", t.benchmark_id},
                      {"name", t.name},
                      {"created_by", t.created_by},
                      {"created_at", TimeOrNull(t.created_at)},
                      {"members", std::move(members)}};
}

StatusOr<std::string> UserNamed(Ctx& ctx, const json::object& body) {
  JsonReader r(body);
  auto user = r.String("user", {.required = true, .max_len = 64});
  RETURN_IF_ERROR(r.Finish());
  ASSIGN_OR_RETURN(auto u, tenants::FindUser(ctx.Tx(), *user));
  return u.id;
}

Status AddTeamMemberHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  ASSIGN_OR_RETURN(std::string uid, UserNamed(ctx, body));
  ASSIGN_OR_RETURN(auto t, validation::GetTeam(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), t.benchmark_id));
  ASSIGN_OR_RETURN(auto access, validation::AccessOf(ctx.Tx(), b, uid));
  if (!access.participant) {
    return FailedPrecondition(
        fmt::format("user {} may not take part in benchmark {}: invite them first", uid, b.name));
  }
  ASSIGN_OR_RETURN(t, validation::AddTeamMember(ctx.Tx(), t.id, uid, ctx.now));
  ctx.audit_detail = "user=" + uid;
  ctx.json = RenderTeam(t);
  return Status::Ok();
}

}  // namespace

json::object RenderBenchmark(const Benchmark& b) {
  json::array metrics;
  for (const auto& m : b.metrics) {
    const validation::MetricInfo* info = validation::FindMetric(b.task_type, m.name);
    metrics.push_back(json::object{{"name", m.name},
                                   {"primary", m.primary},
                                   {"higher_is_better", m.higher_is_better},
                                   {"definition", info != nullptr ? info->definition : ""}});
  }
  json::array phases;
  for (const auto& p : b.phases) phases.push_back(RenderPhase(p));
  json::array orgs;
  for (const auto& o : b.orgs) orgs.push_back(json::value(o));
  return json::object{{"id", b.id},
                      {"project_id", b.project_id},
                      {"org_id", b.org_id},
                      {"name", b.name},
                      {"title", b.title},
                      {"description", b.description},
                      {"task_type", b.task_type},
                      {"visibility", b.visibility},
                      {"orgs", std::move(orgs)},
                      {"metrics", std::move(metrics)},
                      {"rules", json::object{{"max_per_day", b.rules.max_per_day},
                                             {"max_total", b.rules.max_total},
                                             {"max_bytes", b.rules.max_bytes},
                                             {"counts", b.rules.counts},
                                             {"code", b.rules.code},
                                             {"max_runtime_s", b.rules.max_runtime_s},
                                             {"max_memory_mb", b.rules.max_memory_mb},
                                             {"code_charge", b.rules.code_charge}}},
                      {"public_fraction", static_cast<double>(b.public_permille) / 1000.0},
                      {"phases", std::move(phases)},
                      {"created_by", b.created_by},
                      {"created_at", TimeOrNull(b.created_at)},
                      {"updated_at", TimeOrNull(b.updated_at)},
                      {"version", b.version}};
}

void RegisterBenchmarkRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  add({"GET",
       "/api/v1/benchmarks",
       "benchmarks.list",
       nullptr,
       StoreUse::kRead,
       ListBenchmarksHandler,
       "Benchmarks the caller may see",
       {},
       {},
       true});
  Route create{
      "POST",
      "/api/v1/benchmarks",
      "benchmarks.create",
      ProjectInBodyTarget,
      StoreUse::kWrite,
      CreateBenchmarkHandler,
      "Publish a benchmark of a project: its phases (hidden ground truth), metrics and rules",
      {F{"project_id", "string", true, "the organising project"},
       F{"name", "string", true, "a unique slug"}, F{"title", "string", true, ""},
       F{"description", "string", false, "Markdown"},
       F{"task_type", "string", true,
         "binary|multiclass|multilabel|regression|ranking|forecasting|detection, or custom "
         "(scored by the organiser's program)"},
       F{"visibility", "string", false, "public|registered|organisations|invite"},
       F{"orgs", "array", false, "the organisations admitted (visibility organisations)"},
       F{"metrics", "array", true, "names, or {name, primary}; the first is primary by default"},
       F{"rules", "object", false,
         "max_per_day, max_total, max_bytes, counts (best|last), code (code submissions "
         "taken), max_runtime_s, max_memory_mb, code_charge (organiser: the benchmark's "
         "project pays for code runs from its CPU allocation; centre: set by an operator)"},
       F{"public_fraction", "number", false, "the share of test rows ranked publicly (0.5)"},
       F{"phases", "array", true,
         "{name, starts_at, ends_at, input_dataset, input_version, truth_dataset, "
         "truth_version, truth_file, scoring_program_dataset, scoring_program_version, "
         "ingestion_program_dataset, ingestion_program_version}"}},
      {},
      false,
      201};
  create.authorize_before_prepare = true;
  create.prepare = [&api](Ctx& ctx) { return CheckTruthsPrepare(ctx, api, true); };
  add(std::move(create));
  add({"GET", "/api/v1/benchmarks/{id}", "benchmarks.read", BenchmarkTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(Benchmark b, validation::GetBenchmark(ctx.Tx(), ctx.target_id));
         RenderVersioned(ctx, b.version, RenderBenchmark(b));
         return Status::Ok();
       },
       "One benchmark: phases, metrics (with their definitions), rules"});
  Route edit{"PATCH",
             "/api/v1/benchmarks/{id}",
             "benchmarks.update",
             BenchmarkTarget,
             StoreUse::kWrite,
             EditBenchmarkHandler,
             "Edit a benchmark (submissions are kept); a phase's new truth version is reported in "
             "truth_changed, to re-score",
             {F{"title", "string", false, ""}, F{"description", "string", false, ""},
              F{"visibility", "string", false, ""}, F{"orgs", "array", false, ""},
              F{"rules", "object", false, ""},
              F{"phases", "array", false, "by name: existing ones edited, new ones added"}}};
  edit.authorize_before_prepare = true;
  edit.prepare = [&api](Ctx& ctx) { return CheckTruthsPrepare(ctx, api, false); };
  add(std::move(edit));
  add({"POST",
       "/api/v1/benchmarks/{id}/invites",
       "benchmarks.update",
       BenchmarkTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(json::object body, ctx.Body());
         ASSIGN_OR_RETURN(std::string uid, UserNamed(ctx, body));
         RETURN_IF_ERROR(
             validation::Invite(ctx.Tx(), ctx.target_id, uid, ctx.principal.user_id, ctx.now));
         ctx.audit_detail = "user=" + uid;
         ctx.status = 204;
         return Status::Ok();
       },
       "Invite a user to take part (visibility invite)",
       {F{"user", "string", true, "a user id or username"}},
       {},
       false,
       204});
  add({"GET", "/api/v1/benchmarks/{id}/teams", "teams.list", BenchmarkTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto teams, validation::ListTeams(ctx.Tx(), ctx.target_id));
         json::array a;
         for (const auto& t : teams) a.push_back(RenderTeam(t));
         ctx.json = json::object{{"items", std::move(a)}, {"next_cursor", nullptr}};
         return Status::Ok();
       },
       "The teams of a benchmark and their members"});
  add({"POST",
       "/api/v1/benchmarks/{id}/teams",
       "teams.create",
       BenchmarkTarget,
       StoreUse::kWrite,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(json::object body, ctx.Body());
         JsonReader r(body);
         auto name = r.String("name", {.required = true, .max_len = 100});
         RETURN_IF_ERROR(r.Finish());
         ASSIGN_OR_RETURN(auto t, validation::CreateTeam(ctx.Tx(), ctx.target_id, *name,
                                                         ctx.principal.user_id, ctx.now));
         ctx.audit_object = t.id;
         ctx.status = 201;
         ctx.headers.emplace_back("location", "/api/v1/teams/" + t.id);
         ctx.json = RenderTeam(t);
         return Status::Ok();
       },
       "Form a team (the caller its first member; one team per participant and benchmark)",
       {F{"name", "string", true, ""}},
       {},
       false,
       201});
  add({"GET", "/api/v1/teams/{id}", "teams.read", TeamTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto t, validation::GetTeam(ctx.Tx(), ctx.target_id));
         ctx.json = RenderTeam(t);
         return Status::Ok();
       },
       "One team"});
  add({"POST",
       "/api/v1/teams/{id}/members",
       "teams.members",
       TeamTarget,
       StoreUse::kWrite,
       AddTeamMemberHandler,
       "A member adds another participant of the benchmark to the team",
       {F{"user", "string", true, "a user id or username"}}});
  (void)api;
}

}  // namespace openlab::http
