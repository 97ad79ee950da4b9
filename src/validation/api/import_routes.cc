// Importing a Codabench v2 competition bundle as a benchmark, unchanged: each task's reference
// data becomes a hidden dataset of the organising project, its scoring and ingestion programs
// project-level datasets, its input data a restricted dataset (code runs over it; participants
// do not download it, as on Codabench); the phases, their limits and the leaderboard's columns
// become a custom benchmark scored by that program in the sandbox
// (validation/bundle/bundle.h reads the bundle; docs/validation-programs.md says what is kept).
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/ids.h"
#include "data/catalog/datasets.h"
#include "data/service.h"
#include "http/render.h"
#include "tenants/api/routes.h"
#include "tenants/tenants.h"
#include "validation/api/routes.h"
#include "validation/bundle/bundle.h"
#include "validation/validation.h"

namespace openlab::http {

namespace json = boost::json;
namespace fs = std::filesystem;

Status ProjectInQueryTarget(Ctx& ctx) {
  auto id = ctx.QueryParam("project_id");
  if (!id || !IsValidId(*id)) return InvalidArgument("give the organising project as ?project_id=");
  auto p = tenants::GetProject(ctx.Tx(), *id);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(fmt::format("project '{}' does not exist", *id));
    }
    return p.status();
  }
  ctx.target_id = p->id;
  return RelateToProject(ctx, *p);
}

namespace {

// A folder's regular files, path -> bytes (the bundle reader refused links and special files).
StatusOr<std::map<std::string, std::string>> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out[fs::relative(it->path(), dir).string()] = ss.str();
  }
  if (ec) return Internal(fmt::format("cannot read {}: {}", dir, ec.message()));
  return out;
}

// A temporary folder of the import, removed with it.
struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/openlab-bundle-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made != nullptr) path = made;
  }
  ~Scratch() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  std::string path;
};

std::string Slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) {
      out += l;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 40) out.resize(40);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.size() < 2 ? "phase" : out;
}

// Creates a dataset of the project and stores `dir`'s files as its first version.
StatusOr<std::string> ImportDataset(Ctx& ctx, Api& api, const tenants::Project& project,
                                    const std::string& name, const std::string& title,
                                    const std::string& level, const std::string& dir) {
  ASSIGN_OR_RETURN(auto files, ReadTree(dir));
  if (files.empty()) return InvalidArgument(fmt::format("the bundle's {} is empty", title));
  data::Dataset d;
  d.org_id = project.org_id;
  d.project_id = project.id;
  d.name = name;
  d.title = title;
  d.license = "LicenseRef-codabench-bundle";
  d.access_level = level;
  d.created_by = ctx.principal.user_id;
  RETURN_IF_ERROR(api.db()->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(d, data::CreateDataset(tx, d, ctx.now));
    return Status::Ok();
  }));
  RETURN_IF_ERROR(api.options()
                      .data
                      ->ImportFiles(d.id, ctx.principal.user_id, files, "v1",
                                    "imported from a competition bundle", ctx.now)
                      .status());
  return d.id;
}

Status ImportBundleHandler(Ctx& ctx, Api& api) {
  if (api.options().data == nullptr) return Unavailable("this server keeps no data");
  auto name = ctx.QueryParam("name");
  if (!name) return InvalidArgument("give the benchmark's name as ?name=");
  std::string visibility = ctx.QueryParam("visibility").value_or("registered");
  if (ctx.req->body.empty()) return InvalidArgument("the request's body is the bundle (a zip)");
  ASSIGN_OR_RETURN(auto project, tenants::GetProject(ctx.Tx(), ctx.target_id));
  Scratch scratch;
  if (scratch.path.empty()) return Internal("cannot make a scratch folder");
  std::string zip = scratch.path + "/bundle.zip";
  {
    std::ofstream out(zip, std::ios::binary);
    out << ctx.req->body;
    if (!out) return Internal("cannot write the bundle to a scratch folder");
  }
  ASSIGN_OR_RETURN(auto bundle, validation::bundle::ReadBundle(zip, scratch.path + "/x"));
  if (bundle.phases.empty()) return InvalidArgument("the bundle has no phase");
  if (bundle.leaderboards.empty() || bundle.leaderboards.front().columns.empty()) {
    return InvalidArgument("the bundle has no leaderboard column: nothing would be ranked");
  }
  // Each task's data and program, as datasets of the project.
  // index -> truth, scoring program, inputs, ingestion program
  std::map<int64_t, std::array<std::string, 4>> tasks;
  for (const auto& t : bundle.tasks) {
    std::string base = fmt::format("{}-task-{}", name->substr(0, 40), t.index);
    if (t.reference_data_dir.empty()) {
      return InvalidArgument(fmt::format("task {} has no reference_data", t.index));
    }
    std::array<std::string, 4> ids;
    ASSIGN_OR_RETURN(ids[0],
                     ImportDataset(ctx, api, project, base + "-ref", t.name + ": reference data",
                                   "hidden", t.reference_data_dir));
    ASSIGN_OR_RETURN(
        ids[1], ImportDataset(ctx, api, project, base + "-scoring", t.name + ": scoring program",
                              "project", t.scoring_program_dir));
    if (!t.input_data_dir.empty()) {
      ASSIGN_OR_RETURN(ids[2],
                       ImportDataset(ctx, api, project, base + "-input", t.name + ": input data",
                                     "restricted", t.input_data_dir));
    }
    if (!t.ingestion_program_dir.empty()) {
      ASSIGN_OR_RETURN(ids[3], ImportDataset(ctx, api, project, base + "-ingestion",
                                             t.name + ": ingestion program", "project",
                                             t.ingestion_program_dir));
    }
    tasks[t.index] = ids;
  }
  validation::Benchmark b;
  b.project_id = project.id;
  b.name = *name;
  b.title = bundle.title.substr(0, 200);
  b.description = bundle.description.empty() ? bundle.summary : bundle.description;
  b.task_type = "custom";
  b.visibility = visibility;
  b.created_by = ctx.principal.user_id;
  for (const auto& c : bundle.leaderboards.front().columns) {
    if (!c.computation.empty()) continue;  // computed columns are not imported (docs)
    b.metrics.push_back({c.key, b.metrics.empty(), c.higher_is_better});
  }
  const auto& first = bundle.phases.front();
  if (first.max_submissions_per_day) b.rules.max_per_day = *first.max_submissions_per_day;
  if (first.max_submissions) b.rules.max_total = *first.max_submissions;
  if (first.execution_time_limit_seconds) {
    b.rules.max_runtime_s = std::min<int64_t>(*first.execution_time_limit_seconds, 86400);
  }
  for (const auto& ph : bundle.phases) {
    if (ph.task_indexes.empty() || !tasks.count(ph.task_indexes.front())) {
      return InvalidArgument(fmt::format("phase {} names no task of the bundle", ph.name));
    }
    const auto& ids = tasks[ph.task_indexes.front()];
    validation::Phase p;
    p.name = Slug(ph.name);
    p.starts_at = ph.start_ms;
    p.ends_at = ph.end_ms.value_or(ph.start_ms + int64_t{10} * 365 * 86400000);
    p.truth_dataset_id = ids[0];
    p.truth_version_id = "v1";
    p.program_dataset_id = ids[1];
    p.program_version_id = "v1";
    p.input_dataset_id = ids[2];
    p.input_version_id = ids[2].empty() ? "" : "v1";
    // A task with an ingestion program takes code, which that program runs.
    p.ingestion_dataset_id = ids[3];
    p.ingestion_version_id = ids[3].empty() ? "" : "v1";
    if (!ids[3].empty()) b.rules.code = true;
    b.phases.push_back(std::move(p));
  }
  RETURN_IF_ERROR(api.db()->Write([&](store::Tx& tx) -> Status {
    ASSIGN_OR_RETURN(b, validation::CreateBenchmark(tx, b, ctx.now));
    return Status::Ok();
  }));
  ctx.audit_object = b.id;
  ctx.audit_detail = fmt::format("imported bundle name={} tasks={} phases={}", b.name,
                                 bundle.tasks.size(), bundle.phases.size());
  json::object out = RenderBenchmark(b);
  json::array skipped;
  for (const auto& n : bundle.not_imported) skipped.push_back(json::value(n));
  if (!bundle.docker_image.empty()) {
    skipped.push_back(json::value("docker_image (" + bundle.docker_image +
                                  "): programs run in openlab's sandbox with Debian's python3"));
  }
  for (const auto& l : bundle.leaderboards) {
    for (const auto& c : l.columns) {
      if (!c.computation.empty()) {
        skipped.push_back(json::value("leaderboards: computed column " + c.key));
      }
    }
  }
  out["not_imported"] = std::move(skipped);
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/benchmarks/" + b.id);
  ctx.json = std::move(out);
  return Status::Ok();
}

}  // namespace

void RegisterImportRoutes(Router& router, Api& api) {
  Route r{"POST",
          "/api/v1/benchmarks/import",
          "benchmarks.create",
          ProjectInQueryTarget,
          StoreUse::kRead,
          [&api](Ctx& ctx) { return ImportBundleHandler(ctx, api); },
          "Import a Codabench v2 competition bundle (the body, a zip) as a benchmark of the "
          "project: its reference data hidden, its scoring program run in the sandbox",
          {},
          {"project_id", "name", "visibility"},
          false,
          201};
  r.max_body = size_t{256} << 20;
  r.audit_own_effects = true;  // datasets, versions and the benchmark: transactions of their own
  router.Add(std::move(r));
}

}  // namespace openlab::http
