#include "compute/ledger/jobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <tuple>

#include "common/ids.h"
#include "tenants/tenants.h"

namespace openlab::compute {

namespace json = boost::json;

namespace {

bool ValidEnvKey(const std::string& k) {
  if (k.empty() || k.size() > 128) return false;
  if (!(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

Status ValidateJob(const Job& j, const JobLimits& limits) {
  if (j.name.empty() || j.name.size() > 100) return InvalidArgument("name must be 1 to 100 bytes");
  for (unsigned char c : j.name) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("name must not contain control characters");
  }
  if (j.command.empty() == j.script.empty()) {
    return InvalidArgument("give either 'command' (an argument list) or 'script', not both");
  }
  if (j.command.size() > 1000) return InvalidArgument("command has more than 1000 arguments");
  for (const auto& a : j.command) {
    if (HasNul(a) || a.size() > 65536) {
      return InvalidArgument("command arguments must be under 64 KiB and contain no NUL");
    }
  }
  if (!j.command.empty() && j.command[0].empty()) return InvalidArgument("command[0] is empty");
  if (j.script.size() > (1 << 20) || HasNul(j.script)) {
    return InvalidArgument("script must be under 1 MiB and contain no NUL");
  }
  if (j.env.size() > 200) return InvalidArgument("env has more than 200 variables");
  for (const auto& [k, v] : j.env) {
    if (!ValidEnvKey(k)) {
      return InvalidArgument(
          fmt::format("environment variable name '{}' is invalid: use letters, digits and '_'",
                      k.substr(0, 64)));
    }
    if (HasNul(v) || v.size() > 65536) return InvalidArgument("env values must be under 64 KiB");
    if (k == "CUDA_VISIBLE_DEVICES") {
      return InvalidArgument("CUDA_VISIBLE_DEVICES is set by openlab from the GPUs a job gets");
    }
  }
  if (j.workdir.size() > 1000 || HasNul(j.workdir) || (!j.workdir.empty() && j.workdir[0] == '/')) {
    return InvalidArgument("workdir must be a relative path inside the project's space");
  }
  for (size_t pos = 0; pos <= j.workdir.size();) {
    size_t end = j.workdir.find('/', pos);
    if (end == std::string::npos) end = j.workdir.size();
    if (j.workdir.compare(pos, end - pos, "..") == 0 && end - pos == 2) {
      return InvalidArgument("workdir must not leave the project's space ('..')");
    }
    pos = end + 1;
  }
  if (j.gpus < 0) return InvalidArgument("gpus must not be negative");
  if (j.gpus > 0 && limits.max_gpus_per_job == 0) {
    return InvalidArgument("this centre has no GPUs to lend; submit a CPU job (gpus: 0)");
  }
  if (j.gpus > limits.max_gpus_per_job) {
    return InvalidArgument(fmt::format("{} GPUs is more than this centre can give one job ({})",
                                       j.gpus, limits.max_gpus_per_job));
  }
  if (!j.gpu_type.empty()) {
    if (j.gpus == 0) return InvalidArgument("gpu_type needs gpus > 0");
    if (std::find(limits.gpu_types.begin(), limits.gpu_types.end(), j.gpu_type) ==
        limits.gpu_types.end()) {
      std::string known;
      for (auto& t : limits.gpu_types) known += (known.empty() ? "" : ", ") + t;
      return InvalidArgument(fmt::format("unknown accelerator type '{}'; this centre has: {}",
                                         j.gpu_type.substr(0, 40), known.empty() ? "none" : known));
    }
  }
  if (j.cpus < 1 || j.cpus > limits.max_cpus) {
    return InvalidArgument(fmt::format("cpus must be 1 to {}", limits.max_cpus));
  }
  if (j.memory_bytes < 0 ||
      (limits.max_memory_bytes > 0 && j.memory_bytes > limits.max_memory_bytes)) {
    return InvalidArgument(
        fmt::format("memory must be at most {} MiB", limits.max_memory_bytes >> 20));
  }
  if (j.time_limit_s < 1 || j.time_limit_s > limits.max_time_limit_s) {
    return InvalidArgument(fmt::format("time_limit must be 1 s to {} s", limits.max_time_limit_s));
  }
  if (j.job_class != "standard" && j.job_class != "opportunistic") {
    return InvalidArgument("class must be 'standard' or 'opportunistic'");
  }
  return Status::Ok();
}

std::string ChargeResource(const Job& job, const std::string& placed_type) {
  if (job.gpus == 0) return "cpu";
  if (!placed_type.empty()) return "gpu:" + placed_type;
  return job.gpu_type.empty() ? "gpu" : "gpu:" + job.gpu_type;
}

int64_t ChargeRate(const Job& job) { return job.gpus > 0 ? job.gpus : job.cpus; }

namespace {

constexpr const char* kJobCols =
    "id, project_id, user_id, name, command, script, env, workdir, gpus, gpu_type, cpus, "
    "memory_bytes, time_limit_s, job_class, depends_on, array_parent, array_index, state, reason, "
    "exit_code, node, gpu_indices, hold_id, handle, resource, submitted_at, started_at, ended_at, "
    "version, charged_s, sandbox";

Job ToJob(const store::Row& r) {
  Job j;
  j.id = r.Str(0);
  j.project_id = r.Str(1);
  j.user_id = r.Str(2);
  j.name = r.Str(3);
  boost::system::error_code ec;
  json::value cmd = json::parse(r.Str(4), ec);
  if (!ec && cmd.is_array()) {
    for (auto& a : cmd.as_array()) {
      if (a.is_string()) j.command.emplace_back(a.as_string());
    }
  }
  j.script = r.Str(5);
  json::value env = json::parse(r.Str(6), ec);
  if (!ec && env.is_object()) {
    for (auto& kv : env.as_object()) {
      if (kv.value().is_string())
        j.env[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  j.workdir = r.Str(7);
  j.gpus = static_cast<int>(r.Int(8));
  j.gpu_type = r.Str(9);
  j.cpus = static_cast<int>(r.Int(10));
  j.memory_bytes = r.Int(11);
  j.time_limit_s = r.Int(12);
  j.job_class = r.Str(13);
  j.depends_on = r.Str(14);
  j.array_parent = r.Str(15);
  j.array_index = static_cast<int>(r.Int(16));
  j.state = r.Str(17);
  j.reason = r.Str(18);
  j.exit_code = static_cast<int>(r.Int(19));
  j.node = r.Str(20);
  j.gpu_indices = r.Str(21);
  j.hold_id = r.Str(22);
  j.handle = r.Str(23);
  j.resource = r.Str(24);
  j.submitted_at = r.Int(25);
  j.started_at = r.Int(26);
  j.ended_at = r.Int(27);
  j.version = r.Int(28);
  j.charged_s = r.Int(29);
  j.sandbox = r.Str(30);
  return j;
}

}  // namespace

StatusOr<std::vector<std::string>> InsertJobs(store::Tx& tx, const Job& job, int array_count,
                                              int64_t now) {
  if (array_count < 1) return InvalidArgument("array must be at least 1");
  if (!job.depends_on.empty()) {
    auto dep = GetJob(tx, job.depends_on);
    if (!dep.ok() || dep->project_id != job.project_id) {
      return InvalidArgument(fmt::format("depends_on '{}' is not a job of this project",
                                         job.depends_on.substr(0, 64)));
    }
  }
  json::array cmd;
  for (auto& a : job.command) cmd.emplace_back(a);
  json::object env;
  for (auto& [k, v] : job.env) env[k] = v;
  std::string cmd_json = json::serialize(cmd), env_json = json::serialize(env);
  std::vector<std::string> ids;
  std::string parent;
  for (int i = 0; i < array_count; ++i) {
    std::string id = NewId("job");
    if (i == 0 && array_count > 1) parent = id;
    store::Value dep =
        job.depends_on.empty() ? store::Value(nullptr) : store::Value(job.depends_on);
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO jobs (id, project_id, user_id, name, command, script, env, workdir, "
                "gpus, gpu_type, cpus, memory_bytes, time_limit_s, job_class, depends_on, "
                "array_parent, array_index, state, reason, exit_code, node, gpu_indices, hold_id, "
                "handle, resource, submitted_at, started_at, ended_at, version, charged_s) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
                "'queued', $18, 0, '', '', '', '', '', $19, 0, 0, 1, 0)",
                {id, job.project_id, job.user_id, job.name, cmd_json, job.script, env_json,
                 job.workdir, int64_t{job.gpus}, job.gpu_type, int64_t{job.cpus}, job.memory_bytes,
                 job.time_limit_s, job.job_class, dep, parent, int64_t{array_count > 1 ? i : -1},
                 std::string(job.depends_on.empty() ? "Priority" : "Dependency"), now})
            .status());
    ids.push_back(id);
  }
  return ids;
}

StatusOr<Job> GetJob(store::Tx& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(fmt::format("SELECT {} FROM jobs WHERE id = $1", kJobCols), {id}));
  if (rows.empty()) return NotFound(fmt::format("job '{}' not found", id));
  return ToJob(rows[0]);
}

namespace {

// One page of jobs in id order, of one project when `project_id` is set.
StatusOr<std::vector<Job>> ListJobsPage(store::Tx& tx, const JobQuery& q,
                                        const std::optional<std::string>& project_id) {
  store::IdPaging paging = store::PageById(q.after, q.newest_first);
  std::string sql = fmt::format("SELECT {} FROM jobs WHERE {}", kJobCols, paging.where);
  std::vector<store::Value> params = {q.after, int64_t{std::clamp(q.limit, 1, 100000)}};
  auto add = [&](const std::string& cond, store::Value v) {
    params.push_back(std::move(v));
    sql += fmt::format(" AND {} ${}", cond, params.size());
  };
  if (project_id) add("project_id =", *project_id);
  if (q.state) add("state =", *q.state);
  if (q.user_id) add("user_id =", *q.user_id);
  if (q.active_only) {
    sql += " AND state IN ('queued', 'held', 'starting', 'running', 'completing', 'preempted')";
  }
  sql += fmt::format(" {} LIMIT $2", paging.order_by);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<Job> out;
  out.reserve(rows.size());
  for (auto& r : rows) out.push_back(ToJob(r));
  return out;
}

}  // namespace

StatusOr<int64_t> CountJobsInState(store::Tx& tx, const std::string& state, int64_t bound,
                                   bool* more) {
  return store::BoundedCount(tx, "SELECT 1 FROM jobs WHERE state = $1", {state}, bound, more);
}

StatusOr<std::vector<Job>> ListJobs(store::Tx& tx, const JobQuery& q) {
  if (!q.visible_to) return ListJobsPage(tx, q, q.project_id);
  // Jobs of the projects the user is a member of: a page of each project along its index,
  // merged in id order, rather than one query that would sort all their jobs for a page.
  ASSIGN_OR_RETURN(auto projects, tx.Query(tenants::ProjectsOfMemberSql(1), {*q.visible_to}));
  std::vector<Job> out;
  for (const auto& p : projects) {
    std::string project = p.Str(0);
    if (q.project_id && *q.project_id != project) continue;
    ASSIGN_OR_RETURN(auto page, ListJobsPage(tx, q, project));
    out.insert(out.end(), std::make_move_iterator(page.begin()),
               std::make_move_iterator(page.end()));
  }
  std::sort(out.begin(), out.end(), [&q](const Job& a, const Job& b) {
    return q.newest_first ? a.id > b.id : a.id < b.id;
  });
  if (out.size() > static_cast<size_t>(std::clamp(q.limit, 1, 100000))) {
    out.resize(static_cast<size_t>(std::clamp(q.limit, 1, 100000)));
  }
  return out;
}

StatusOr<std::vector<std::string>> ListJobIds(store::Tx& tx, std::string_view state,
                                              const std::string& after, int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id FROM jobs WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3",
                            {std::string(state), after, int64_t{std::clamp(limit, 1, 100000)}}));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto& r : rows) out.push_back(r.Str(0));
  return out;
}

std::string LatestJobDir(const std::string& jobs_root, const std::string& job_id) {
  std::string dir = jobs_root + "/" + job_id;
  for (int attempt = 1; attempt < 1000; ++attempt) {
    std::string next = fmt::format("{}/{}.r{}", jobs_root, job_id, attempt);
    if (!std::filesystem::exists(next)) break;
    dir = next;
  }
  return dir;
}

Status UpdateJob(store::Tx& tx, const Job& j) {
  ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE jobs SET state = $1, reason = $2, exit_code = $3, node = $4, gpu_indices = "
              "$5, hold_id = $6, handle = $7, resource = $8, started_at = $9, ended_at = $10, "
              "charged_s = $11, sandbox = $14, version = version + 1 WHERE id = $12 AND version = "
              "$13",
              {j.state, j.reason, int64_t{j.exit_code}, j.node, j.gpu_indices, j.hold_id, j.handle,
               j.resource, j.started_at, j.ended_at, j.charged_s, j.id, j.version, j.sandbox}));
  if (n != 1) return Aborted(fmt::format("job {} changed meanwhile", j.id));
  return Status::Ok();
}

Status SetQueuedReason(store::Tx& tx, const std::string& job_id, const std::string& reason) {
  return tx
      .Exec(
          "UPDATE jobs SET reason = $1, version = version + 1 WHERE id = $2 AND state = $3 AND "
          "reason <> $1",
          {reason, job_id, std::string(JobStateName(JobState::kQueued))})
      .status();
}

StatusOr<std::string> InsertJobCopies(store::Tx& tx, const Job& job, int64_t count, int64_t now) {
  if (count < 1) return InvalidArgument("count must be at least 1");
  if (count > 9'000'000'000) return InvalidArgument("count must be below 9,000,000,000");
  if (!job.depends_on.empty()) return InvalidArgument("copies cannot depend on a job");
  ASSIGN_OR_RETURN(auto first, InsertJobs(tx, job, 1, now));
  if (count == 1) return first.front();
  // The copies' columns are read from the first row, so only the id and the count are
  // parameters (and neither backend has to guess a parameter's type in a SELECT list).
  static constexpr const char* kCopied =
      "project_id, user_id, name, command, script, env, workdir, gpus, gpu_type, cpus, "
      "memory_bytes, time_limit_s, job_class, depends_on, array_parent, array_index, state, "
      "reason, exit_code, node, gpu_indices, hold_id, handle, resource, submitted_at, started_at, "
      "ended_at, version, charged_s";
  RETURN_IF_ERROR(
      tx.Exec(fmt::format("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                          "i < {}) INSERT INTO jobs (id, {}) SELECT jobs.id || '-' || "
                          "CAST(1000000000 + n.i AS TEXT), {} FROM n, jobs WHERE jobs.id = $1",
                          count - 1, kCopied, kCopied),
              {first.front()})
          .status());
  return first.front();
}

namespace {
constexpr const char* kResCols =
    "id, project_id, gpus, gpu_type, starts_at, ends_at, note, created_by, created_at";
Reservation ToReservation(const store::Row& r) {
  return Reservation{r.Str(0), r.Str(1), r.Str(3), r.Str(6), r.Str(7), static_cast<int>(r.Int(2)),
                     r.Int(4), r.Int(5), r.Int(8)};
}
}  // namespace

StatusOr<Reservation> CreateReservation(store::Tx& tx, const Reservation& in, int capacity,
                                        int64_t now) {
  if (in.gpus < 1) return InvalidArgument("a reservation needs at least one device");
  if (in.ends_at <= in.starts_at) return InvalidArgument("end must be after start");
  if (in.ends_at <= now) return InvalidArgument("the window is already over");
  if (in.ends_at - in.starts_at > 366LL * 86400 * 1000) {
    return InvalidArgument("a reservation can last at most a year");
  }
  if (in.note.size() > 1000) return InvalidArgument("note is longer than 1000 bytes");
  if (in.gpus > capacity) {
    return Conflict(fmt::format("this centre has {} {} device(s); {} cannot be reserved", capacity,
                                in.gpu_type, in.gpus));
  }
  // The peak of overlapping reservations is reached at the start of one of them (or of ours).
  ASSIGN_OR_RETURN(auto rows, tx.Query(fmt::format("SELECT {} FROM reservations WHERE gpu_type = "
                                                   "$1 AND starts_at < $2 AND ends_at > $3",
                                                   kResCols),
                                       {in.gpu_type, in.ends_at, in.starts_at}));
  std::vector<Reservation> overlapping;
  for (auto& r : rows) overlapping.push_back(ToReservation(r));
  std::vector<int64_t> instants = {in.starts_at};
  for (auto& r : overlapping) {
    if (r.starts_at > in.starts_at) instants.push_back(r.starts_at);
  }
  for (int64_t t : instants) {
    int used = in.gpus;
    std::string names;
    for (auto& r : overlapping) {
      if (r.starts_at <= t && r.ends_at > t) {
        used += r.gpus;
        names += (names.empty() ? "" : ", ") + r.id;
      }
    }
    if (used > capacity) {
      return Conflict(fmt::format("{} {} device(s) are free in that window, not {}: it overlaps {}",
                                  capacity - (used - in.gpus), in.gpu_type, in.gpus, names));
    }
  }
  Reservation r = in;
  r.id = NewId("rsv");
  r.created_at = now;
  Status s = tx.Exec(
                   "INSERT INTO reservations (id, project_id, gpus, gpu_type, starts_at, "
                   "ends_at, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                   "$8, $9)",
                   {r.id, r.project_id, int64_t{r.gpus}, r.gpu_type, r.starts_at, r.ends_at, r.note,
                    r.created_by, now})
                 .status();
  if (s.code() == StatusCode::kFailedPrecondition) return NotFound("project not found");
  RETURN_IF_ERROR(s);
  return r;
}

StatusOr<std::vector<Reservation>> ListReservations(store::Tx& tx, const std::string& project_id,
                                                    int64_t after_ms) {
  std::string sql = fmt::format("SELECT {} FROM reservations WHERE ends_at > $1", kResCols);
  std::vector<store::Value> params = {after_ms};
  if (!project_id.empty()) {
    sql += " AND project_id = $2";
    params.push_back(project_id);
  }
  // The reservations not yet ended, along an index on their end; ordered here by start (every
  // one of them is returned, so the order costs the same here as in SQL).
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<Reservation> out;
  for (auto& r : rows) out.push_back(ToReservation(r));
  std::sort(out.begin(), out.end(), [](const Reservation& a, const Reservation& b) {
    return std::tie(a.starts_at, a.id) < std::tie(b.starts_at, b.id);
  });
  return out;
}

}  // namespace openlab::compute
