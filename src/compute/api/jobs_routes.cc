// Jobs: routes and targets.
#include <fmt/format.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>

#include "common/json_util.h"
#include "compute/api/routes.h"
#include "compute/job_use_cases.h"
#include "compute/ledger/jobs.h"
#include "data/inputs/job_inputs.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- jobs

json::object RenderJob(const compute::Job& j) {
  json::array cmd;
  for (auto& a : j.command) cmd.emplace_back(a);
  json::object env;
  for (auto& [k, v] : j.env) env[k] = v;
  json::object o{
      {"id", j.id},
      {"project_id", j.project_id},
      {"user_id", j.user_id},
      {"name", j.name},
      {"state", j.state},
      {"reason", j.reason},
      {"gpus", j.gpus},
      {"gpu_type", j.gpu_type},
      {"cpus", j.cpus},
      {"memory_mb", j.memory_bytes >> 20},
      {"time_limit_s", j.time_limit_s},
      {"class", j.job_class},
      {"command", cmd},
      {"env", env},
      {"workdir", j.workdir},
      {"submitted_at", FormatTime(j.submitted_at)},
      {"started_at", j.started_at ? json::value(FormatTime(j.started_at)) : nullptr},
      {"ended_at", j.ended_at ? json::value(FormatTime(j.ended_at)) : nullptr},
      {"exit_code", compute::IsTerminalJobState(j.state) ? json::value(j.exit_code) : nullptr},
      {"node", j.node},
      {"gpu_indices", j.gpu_indices},
      {"charged_hours", Hours(j.charged_s)},
      {"resource", j.resource},
      {"sandbox", j.sandbox}};
  if (!j.script.empty()) o["script"] = j.script;
  if (!j.depends_on.empty()) o["depends_on"] = j.depends_on;
  if (j.array_index >= 0) {
    o["array_parent"] = j.array_parent;
    o["array_index"] = j.array_index;
  }
  return o;
}

const std::string& IdOfJob(const compute::Job& j) { return j.id; }

// One job with the datasets it reads (data/inputs/job_inputs.h) and whether it is sealed. Which
// datasets and versions those are is data: a token without data:read sees only the inputs' names.
StatusOr<json::value> RenderJobWithData(Ctx& ctx, const compute::Job& j) {
  json::object o = RenderJob(j);
  ASSIGN_OR_RETURN(auto inputs, data::ListJobInputs(ctx.Tx(), j.id));
  bool show_datasets = ctx.principal.HasScope("data:read");
  json::array a;
  bool sealed = false;
  for (const auto& in : inputs) {
    json::object e{{"as", in.name}, {"sealed", in.sealed}};
    if (show_datasets) {
      e["dataset_id"] = in.dataset_id;
      e["version_id"] = in.version_id;
      e["access_level"] = in.access_level;
    }
    a.push_back(std::move(e));
    sealed = sealed || in.sealed;
  }
  o["data"] = std::move(a);
  o["sealed"] = sealed;
  return json::value(std::move(o));
}

// A dataset input of the body: {"dataset", "version", "as"}, or why it cannot be read.
StatusOr<compute::DataInputRef> ParseDataInput(const json::value& item, size_t i) {
  if (!item.is_object()) {
    return InvalidArgument(
        fmt::format("data[{}] must be an object {{\"dataset\", \"version\", \"as\"}}", i));
  }
  JsonReader ir(item.get_object());
  auto dataset = ir.String("dataset", {.required = true, .max_len = 64});
  auto version = ir.String("version", {.max_len = 80});
  auto as = ir.String("as", {.required = true, .max_len = 32});
  Status fs = ir.Finish();
  if (!fs.ok()) return InvalidArgument(fmt::format("data[{}]: {}", i, fs.message()));
  return compute::DataInputRef{*dataset, version.value_or(""), *as};
}

// The body of POST /api/v1/jobs. The project (already resolved to ctx.target_id) and the
// submitter come from the request; the rest as given, with the defaults the API documents.
StatusOr<compute::SubmitRequest> ParseSubmit(Ctx& ctx, const json::object& body,
                                             const compute::JobLimits& limits) {
  JsonReader r(body);
  r.String("project_id", {.required = true, .max_len = 64});  // resolved by the API layer
  auto name = r.String("name", {.required = true, .min_len = 1, .max_len = 100});
  auto command = r.StringList("command", false, 1000, 65536);
  auto script = r.String("script", {.max_len = 1 << 20});
  auto workdir = r.String("workdir", {.max_len = 1000});
  auto gpus = r.Int("gpus", false, 0, 4096);
  auto gpu_type = r.String("gpu_type", {.max_len = 40});
  auto cpus = r.Int("cpus", false, 1, 4096);
  auto memory_mb = r.Int("memory_mb", false, 0, int64_t{1} << 32);
  auto time_limit = r.Int("time_limit_s", false, 1, int64_t{1} << 40);
  auto job_class = r.String("class", {.max_len = 20});
  auto depends_on = r.String("depends_on", {.max_len = 64});
  auto array = r.Int("array", false, 1, limits.max_array);
  auto env = r.StringMap("env", false, 200, 65536);
  const json::array* data_inputs = r.Array("data", false, data::kMaxJobInputs);
  RETURN_IF_ERROR(r.Finish());
  compute::SubmitRequest req;
  compute::Job& j = req.job;
  j.project_id = ctx.target_id;
  j.user_id = ctx.principal.user_id;
  j.name = *name;
  if (command) j.command = *command;
  j.script = script.value_or("");
  if (env) j.env = std::move(*env);
  j.workdir = workdir.value_or("");
  j.gpus = static_cast<int>(gpus.value_or(0));
  j.gpu_type = gpu_type.value_or("");
  j.cpus = static_cast<int>(cpus.value_or(1));
  j.memory_bytes = memory_mb.value_or(0) << 20;
  j.time_limit_s = time_limit.value_or(3600);
  j.job_class = job_class.value_or("standard");
  j.depends_on = depends_on.value_or("");
  req.array_count = static_cast<int>(array.value_or(1));
  for (size_t i = 0; data_inputs != nullptr && i < data_inputs->size(); ++i) {
    req.data.push_back(ParseDataInput((*data_inputs)[i], i));
  }
  return req;
}

Status SubmitJob(Ctx& ctx, const compute::JobLimits& limits) {
  ASSIGN_OR_RETURN(json::object body, ctx.Body());
  ASSIGN_OR_RETURN(compute::SubmitRequest req, ParseSubmit(ctx, body, limits));
  req.data_access = ctx.Authorize("jobs.data");
  ASSIGN_OR_RETURN(auto ids, compute::SubmitJobs(ctx.Tx(), req, limits, ctx.now));
  const compute::Job& j = req.job;
  ctx.audit_object = ids.front();
  ctx.audit_detail = fmt::format("project={} gpus={} time_limit_s={} array={}", j.project_id,
                                 j.gpus, j.time_limit_s, ids.size());
  ctx.status = 201;
  if (ids.size() == 1) {
    ASSIGN_OR_RETURN(auto job, compute::GetJob(ctx.Tx(), ids.front()));
    ctx.headers.emplace_back("location", "/api/v1/jobs/" + job.id);
    ASSIGN_OR_RETURN(ctx.json, RenderJobWithData(ctx, job));
  } else {
    json::array items;
    for (const auto& id : ids) {
      ASSIGN_OR_RETURN(auto job, compute::GetJob(ctx.Tx(), id));
      items.push_back(RenderJob(job));
    }
    ctx.json = json::object{{"items", std::move(items)}, {"next_cursor", nullptr}};
  }
  return Status::Ok();
}

Status ListJobsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  compute::JobQuery q;
  q.after = page.after;
  q.limit = page.limit;
  q.project_id = ctx.QueryParam("project_id");
  q.state = ctx.QueryParam("state");
  q.user_id = ctx.QueryParam("user_id");
  std::string order = ctx.QueryParam("order").value_or("oldest");
  if (order != "oldest" && order != "newest") {
    return InvalidArgument("order must be oldest or newest");
  }
  q.newest_first = order == "newest";
  if (!ctx.Authorize("jobs.list_all").ok()) q.visible_to = ctx.principal.user_id;
  ASSIGN_OR_RETURN(auto jobs, compute::ListJobs(ctx.Tx(), q));
  RenderPage(ctx, jobs, page, RenderJob, IdOfJob);
  return Status::Ok();
}

Status GetJobHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto j, compute::GetJob(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(ctx.json, RenderJobWithData(ctx, j));
  return Status::Ok();
}

struct LogQuery {
  compute::LogStream stream = compute::LogStream::kStdout;
  int64_t offset = 0, limit = 1 << 20;
  int64_t wait_s = 0;
};

// The seconds a follower may ask to wait for new output (?wait=).
constexpr int64_t kMaxLogWaitS = 25;

// ?stream=stdout|stderr&offset=N&limit=M (default 1 MiB, at most 8 MiB)&wait=S (at most 25).
StatusOr<LogQuery> ParseLogQuery(const Ctx& ctx) {
  LogQuery q;
  std::string stream = ctx.QueryParam("stream").value_or("stdout");
  if (stream != "stdout" && stream != "stderr") {
    return InvalidArgument("stream must be stdout or stderr");
  }
  q.stream = stream == "stdout" ? compute::LogStream::kStdout : compute::LogStream::kStderr;
  auto number = [&](const char* name, int64_t dflt, int64_t max) -> StatusOr<int64_t> {
    auto v = ctx.QueryParam(name);
    if (!v) return dflt;
    char* end = nullptr;
    long long n = v->empty() || v->size() > 15 ? -1 : std::strtoll(v->c_str(), &end, 10);
    if (n < 0 || n > max || (end && *end != '\0')) {
      return InvalidArgument(fmt::format("{} must be an integer from 0 to {}", name, max));
    }
    return static_cast<int64_t>(n);
  };
  ASSIGN_OR_RETURN(q.offset, number("offset", 0, int64_t{1} << 50));
  ASSIGN_OR_RETURN(q.limit, number("limit", 1 << 20, 8 << 20));
  ASSIGN_OR_RETURN(q.wait_s, number("wait", 0, kMaxLogWaitS));
  return q;
}

// Who is waiting for new output now, and how many may: each waits on a handler thread, so only
// some of them may (ApiOptions::max_log_followers); beyond, a follower is answered at once.
struct LogFollowers {
  std::atomic<int> waiting = 0;
  int max = 0;
};

// A slice of a job's output. The reply says where to continue (X-Log-Offset) and whether more
// can come (X-Job-State). With ?wait=S and nothing new yet, the reply waits (outside the read
// transaction) up to S seconds for output or the job's end.
Status JobLogs(Ctx& ctx, const std::string& jobs_root, store::Database* db,
               const std::shared_ptr<LogFollowers>& followers) {
  ASSIGN_OR_RETURN(
      auto j, compute::JobForLogs(ctx.Tx(), ctx.target_id, ctx.Authorize("jobs.sealed_logs").ok()));
  ASSIGN_OR_RETURN(LogQuery q, ParseLogQuery(ctx));
  std::string data = compute::ReadJobLog(jobs_root, j.id, q.stream, q.offset, q.limit);
  if (data.empty() && q.wait_s > 0 && !ctx.waited && !compute::IsTerminalJobState(j.state) &&
      db != nullptr) {
    if (followers->waiting.fetch_add(1) < followers->max) {
      // The slot is given back when the wait is done with (run or dropped).
      std::shared_ptr<void> slot(nullptr, [followers](void*) { followers->waiting--; });
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(q.wait_s);
      ctx.wait_then_ask_again = [slot, db, jobs_root, id = j.id, q, deadline] {
        compute::WaitForJobLog(*db, jobs_root, id, q.stream, q.offset, deadline);
      };
      return Status::Ok();
    }
    followers->waiting--;
  }
  ctx.headers.emplace_back("x-log-offset",
                           std::to_string(q.offset + static_cast<int64_t>(data.size())));
  ctx.headers.emplace_back("x-job-state", j.state);
  ctx.content_type = "text/plain; charset=utf-8";
  ctx.raw_body = std::move(data);
  return Status::Ok();
}

Status CancelJobHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto j, compute::CancelJob(ctx.Tx(), ctx.target_id, ctx.now));
  ctx.status = 202;
  ctx.json = RenderJob(j);
  return Status::Ok();
}

}  // namespace

Status JobTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto j, compute::GetJob(ctx.Tx(), ctx.Param("id")));
  ASSIGN_OR_RETURN(auto p, tenants::GetProject(ctx.Tx(), j.project_id));
  ctx.target_id = j.id;
  ctx.relation.self = j.user_id == ctx.principal.user_id;
  return RelateToProject(ctx, p);
}

void RegisterJobRoutes(Router& router, Api& api) {
  using F = FieldDoc;
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // Jobs.
  compute::JobLimits limits = api.options().job_limits;
  add({"POST",
       "/api/v1/jobs",
       "jobs.submit",
       ProjectInBodyTarget,
       StoreUse::kWrite,
       [limits, &api](Ctx& ctx) {
         if (api.options().on_jobs_changed)
           ctx.after_commit.push_back(api.options().on_jobs_changed);
         return SubmitJob(ctx, limits);
       },
       "Submit a job (or an array of jobs) to run on the centre's compute",
       {F{"project_id", "string", true, ""}, F{"name", "string", true, ""},
        F{"command", "array", false, "argument list, run directly (no shell)"},
        F{"script", "string", false, "a bash script (instead of command)"},
        F{"env", "object", false, "environment variables"},
        F{"workdir", "string", false, "relative to the project's space"},
        F{"gpus", "integer", false, "default 0"}, F{"gpu_type", "string", false, "e.g. H100"},
        F{"cpus", "integer", false, "default 1"}, F{"memory_mb", "integer", false, ""},
        F{"time_limit_s", "integer", false, "default 3600"},
        F{"class", "string", false, "standard|opportunistic"},
        F{"depends_on", "string", false, "start after this job of the project completes"},
        F{"array", "integer", false, "submit N copies (array_index 0..N-1)"},
        F{"data", "array", false,
          "datasets to read: [{dataset, version (default latest), as}]; copied read-only to "
          "$OPENLAB_DATA_<AS>"}},
       {},
       false,
       201});
  add({"GET",
       "/api/v1/jobs",
       "jobs.list",
       nullptr,
       StoreUse::kRead,
       ListJobsHandler,
       "Jobs visible to the caller; ?user_id= those a user submitted, ?order=newest the newest "
       "first (default oldest)",
       {},
       {"project_id", "state", "user_id", "order"},
       true});
  add({"GET", "/api/v1/jobs/{id}", "jobs.read", JobTarget, StoreUse::kRead, GetJobHandler,
       "One job: state, why it waits, placement, charge"});
  add({"POST",
       "/api/v1/jobs/{id}/cancel",
       "jobs.cancel",
       JobTarget,
       StoreUse::kWrite,
       [&api](Ctx& ctx) {
         if (api.options().on_jobs_changed)
           ctx.after_commit.push_back(api.options().on_jobs_changed);
         return CancelJobHandler(ctx);
       },
       "Cancel a job (its owner, the PI and co-PIs, operators)",
       {},
       {},
       false,
       202});
  {
    // Logs grow without a store write: never from the read cache.
    std::string jobs_root = api.options().jobs_root;
    auto followers = std::make_shared<LogFollowers>();
    followers->max = api.options().max_log_followers;
    store::Database* db = api.db();
    Route logs{
        "GET",
        "/api/v1/jobs/{id}/logs",
        "jobs.logs",
        JobTarget,
        StoreUse::kRead,
        [jobs_root, db, followers](Ctx& ctx) { return JobLogs(ctx, jobs_root, db, followers); },
        "A job's output (stdout or stderr) from an offset. To follow it, ask again from "
        "X-Log-Offset with ?wait=S (at most 25): the answer comes when there is more, "
        "when the job ends (X-Job-State), or after S seconds",
        {},
        {"stream", "offset", "limit", "wait"}};
    logs.cacheable = false;
    add(std::move(logs));
  }
}

void RegisterComputeCapability(Router& router, Api& api) {
  RegisterAllocationRoutes(router, api);
  RegisterJobRoutes(router, api);
  RegisterReservationRoutes(router, api);
  RegisterOpsRoutes(router, api);
  DescribeComputeResponses(router);
}

}  // namespace openlab::http
