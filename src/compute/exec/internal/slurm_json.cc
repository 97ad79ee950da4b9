#include "compute/exec/internal/slurm_json.h"

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <charconv>

namespace openlab::compute::internal {

namespace json = boost::json;

namespace {

// A number, from a JSON number or from {"set": true, "number": N}; nullopt otherwise.
std::optional<int64_t> Number(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  if (v->is_object()) {
    const json::object& o = v->as_object();
    const json::value* set = o.if_contains("set");
    if (set != nullptr && set->is_bool() && !set->as_bool()) return std::nullopt;
    return Number(o.if_contains("number"));
  }
  return std::nullopt;
}

std::string String(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  // Later OpenAPI versions turn some strings into lists (job_state: ["RUNNING"]).
  if (v->is_array() && !v->as_array().empty() && v->as_array()[0].is_string()) {
    return std::string(v->as_array()[0].as_string());
  }
  return "";
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string FirstLine(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  size_t nl = s.find('\n');
  std::string line(s.substr(0, nl));
  if (line.size() > 300) line.resize(300);
  return line;
}

}  // namespace

StatusOr<std::vector<SlurmJob>> ParseSqueueJson(std::string_view text) {
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) {
    return InvalidArgument(fmt::format("squeue --json printed no JSON object: {}",
                                       ec ? ec.message() : FirstLine(text)));
  }
  const json::object& root = doc.as_object();
  if (const json::value* errors = root.if_contains("errors");
      errors != nullptr && errors->is_array() && !errors->as_array().empty()) {
    std::string msg;
    for (const json::value& e : errors->as_array()) {
      if (!msg.empty()) msg += "; ";
      if (!e.is_object()) {
        msg += json::serialize(e);
        continue;
      }
      std::string desc = String(e.as_object(), "description");
      std::string err = String(e.as_object(), "error");
      std::string source = String(e.as_object(), "source");
      msg += desc.empty() ? err : (err.empty() ? desc : desc + " (" + err + ")");
      if (!source.empty()) msg += " in " + source;
    }
    return Unavailable("Slurm cannot be reached: squeue reports " + msg);
  }
  const json::value* jobs = root.if_contains("jobs");
  if (jobs == nullptr || !jobs->is_array()) {
    return InvalidArgument("squeue --json printed no `jobs` list");
  }
  std::vector<SlurmJob> out;
  out.reserve(jobs->as_array().size());
  for (const json::value& jv : jobs->as_array()) {
    if (!jv.is_object()) continue;
    const json::object& j = jv.as_object();
    SlurmJob job;
    auto id = Number(j.if_contains("job_id"));
    if (!id) continue;
    job.job_id = *id;
    job.name = String(j, "name");
    job.state = String(j, "job_state");
    job.state_reason = String(j, "state_reason");
    job.comment = String(j, "comment");
    job.partition = String(j, "partition");
    job.nodes = String(j, "nodes");
    job.standard_output = String(j, "standard_output");
    if (auto ec_num = Number(j.if_contains("exit_code"))) {
      job.exit_code = static_cast<int>(*ec_num);
    } else if (const json::value* v = j.if_contains("exit_code"); v != nullptr && v->is_object()) {
      // Later versions: {"status": "...", "return_code": N, "signal": {"signal_id": S}}.
      const json::object& o = v->as_object();
      auto rc = Number(o.if_contains("return_code"));
      std::optional<int64_t> sig;
      if (const json::value* s = o.if_contains("signal"); s != nullptr && s->is_object()) {
        sig = Number(s->as_object().if_contains("signal_id"));
      }
      if (sig && *sig > 0) {
        job.exit_code = static_cast<int>(*sig & 0x7f);
      } else if (rc) {
        job.exit_code = static_cast<int>((*rc & 0xff) << 8);
      }
    }
    job.start_time = Number(j.if_contains("start_time")).value_or(0);
    job.end_time = Number(j.if_contains("end_time")).value_or(0);
    if (const json::value* g = j.if_contains("gres_detail"); g != nullptr && g->is_array()) {
      for (const json::value& s : g->as_array()) {
        if (s.is_string()) job.gres_detail.emplace_back(s.as_string());
      }
    }
    job.tres_per_node = String(j, "tres_per_node");
    job.tres_alloc_str = String(j, "tres_alloc_str");
    out.push_back(std::move(job));
  }
  return out;
}

void SetExitStatus(int exit_status, ExecStatus* status) {
  if (exit_status > 128 && exit_status <= 128 + 64) {
    status->exit_code = -1;
    status->term_signal = exit_status - 128;
  } else {
    status->exit_code = exit_status;
    status->term_signal = 0;
  }
  status->state = exit_status == 0 ? ExecState::kCompleted : ExecState::kFailed;
}

ExecStatus ExecStatusFromSlurm(const SlurmJob& job) {
  static constexpr std::array<std::string_view, 8> kPending = {
      "PENDING",     "CONFIGURING",   "REQUEUED",      "REQUEUE_HOLD",
      "REQUEUE_FED", "RESV_DEL_HOLD", "POWER_UP_NODE", "SPECIAL_EXIT"};
  static constexpr std::array<std::string_view, 8> kRunning = {
      "RUNNING",   "COMPLETING", "SUSPENDED", "STOPPED",
      "SIGNALING", "STAGE_OUT",  "RESIZING",  "UPDATE_DB"};
  auto in = [&](const auto& list) {
    for (std::string_view s : list) {
      if (job.state == s) return true;
    }
    return false;
  };

  ExecStatus st;
  // The raw wait status of the batch script (the wrapper): exit << 8, or the killing signal.
  int raw = job.exit_code.value_or(0);
  bool signalled = (raw & 0x7f) != 0;
  int exit_status = (raw >> 8) & 0xff;
  auto set_exit = [&] {
    if (signalled) {
      st.exit_code = -1;
      st.term_signal = raw & 0x7f;
    } else {
      SetExitStatus(exit_status, &st);
    }
  };
  std::string where = job.nodes.empty() ? "" : " on " + job.nodes;
  std::string gres;
  for (const auto& g : job.gres_detail) gres += (gres.empty() ? "" : ",") + g;
  if (!gres.empty()) gres = ", gres " + gres;

  if (in(kPending)) {
    st.state = ExecState::kPending;
    st.detail = fmt::format("Slurm job {} is {} ({})", job.job_id, job.state, job.state_reason);
  } else if (in(kRunning)) {
    st.state = ExecState::kRunning;
    st.detail = fmt::format("Slurm job {} is {}{}{}", job.job_id, job.state, where, gres);
  } else if (job.state == "COMPLETED") {
    set_exit();
    st.state = ExecState::kCompleted;
    st.detail = fmt::format("Slurm job {} completed{}", job.job_id, where);
  } else if (job.state == "FAILED" || job.state == "OUT_OF_MEMORY") {
    set_exit();
    st.state = ExecState::kFailed;
    if (job.state == "OUT_OF_MEMORY") {
      st.detail = fmt::format("Slurm job {} ran out of memory{}", job.job_id, where);
    } else if (st.term_signal != 0) {
      st.detail = fmt::format("Slurm job {} was killed by signal {}{} ({})", job.job_id,
                              st.term_signal, where, job.state_reason);
    } else {
      st.detail = fmt::format("Slurm job {} failed with exit status {}{} ({})", job.job_id,
                              st.exit_code, where, job.state_reason);
    }
  } else if (job.state == "CANCELLED") {
    set_exit();
    st.state = ExecState::kCancelled;
    st.detail = fmt::format("Slurm job {} was cancelled", job.job_id);
  } else if (job.state == "TIMEOUT" || job.state == "DEADLINE") {
    set_exit();
    st.state = ExecState::kTimeout;
    st.detail = fmt::format("Slurm job {} reached its {}", job.job_id,
                            job.state == "TIMEOUT" ? "time limit" : "deadline");
  } else if (job.state == "NODE_FAIL" || job.state == "BOOT_FAIL" || job.state == "PREEMPTED") {
    set_exit();
    st.state = ExecState::kNodeFail;
    st.detail = fmt::format("Slurm job {} ended with {}{}: the cluster stopped it, not the job",
                            job.job_id, job.state, where);
  } else {
    st.state = ExecState::kRunning;
    st.detail = fmt::format("Slurm job {} is in state '{}', taken as running", job.job_id,
                            job.state.empty() ? "?" : job.state);
  }
  if (st.state != ExecState::kPending && job.start_time > 0) {
    st.started_at_ms = job.start_time * 1000;
  }
  if (IsTerminal(st.state)) {
    st.ended_at_ms = std::max(job.end_time * 1000, st.started_at_ms);
  }
  return st;
}

StatusOr<int64_t> ParseSbatchParsable(std::string_view out) {
  std::string line = FirstLine(out);
  std::string_view id = line;
  if (size_t semi = id.find(';'); semi != std::string_view::npos) id = id.substr(0, semi);
  while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.remove_suffix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (id.empty() || ec != std::errc() || ptr != id.data() + id.size() || value <= 0) {
    return InvalidArgument(fmt::format("sbatch --parsable printed no job id: '{}'", line));
  }
  return value;
}

Status SlurmCommandError(std::string_view what, const CommandResult& result, int timeout_ms) {
  if (result.timed_out) {
    return Unavailable(fmt::format("Slurm did not answer: {} ran for {} s and was killed", what,
                                   timeout_ms / 1000.0));
  }
  std::string err = result.err.empty() ? result.out : result.err;
  static constexpr std::array<std::string_view, 15> kUnreachable = {
      "Unable to contact slurm controller",
      "connect failure",
      "Connection refused",
      "Connection reset",
      "Socket timed out",
      "Zero Bytes were transmitted",
      "Communication connection failure",
      "temporarily unavailable",
      "Resource temporarily unavailable",
      "backup controller in standby",
      "slurmctld not responding",
      "Munge",
      "munge",
      "Protocol authentication error",
      "Could not establish a configuration source",
  };
  for (std::string_view s : kUnreachable) {
    if (Contains(err, s)) {
      return Unavailable(
          fmt::format("Slurm cannot be reached: {} failed: {}", what, FirstLine(err)));
    }
  }
  if (what == "sbatch" && Contains(err, "Batch job submission failed")) {
    return InvalidArgument(fmt::format("Slurm refused the job: {}", FirstLine(err)));
  }
  return Internal(fmt::format("{} failed ({})", what, result.Summary()));
}

}  // namespace openlab::compute::internal
