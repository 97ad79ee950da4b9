#include "compute/sched/sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <queue>
#include <sstream>
#include <unordered_map>

namespace openlab::compute {

StatusOr<TraceFormat> ParseTraceFormat(std::string_view name) {
  if (name == "philly") return TraceFormat::kPhilly;
  if (name == "generic") return TraceFormat::kGeneric;
  return InvalidArgument(fmt::format("unknown trace format '{}' (want philly or generic)", name));
}

std::string TraceJob::Tenant() const { return org == project ? project : org + "/" + project; }

Time DefaultTimeLimit(Time duration) {
  Time twice = 2 * std::max<Time>(duration, 0);
  Time hours = (twice + 3599) / 3600;
  return std::max<Time>(hours, 1) * 3600;
}

namespace {

constexpr double kMaxSeconds = 1e12;  // ~31,700 years: keeps every sum far from overflow
constexpr int kMaxGpus = 1 << 20;

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t c = line.find(',', start);
    if (c == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, c - start));
    start = c + 1;
  }
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > 40) out += "...";
  return out;
}

Status LineError(int line, std::string_view what) {
  return InvalidArgument(fmt::format("trace line {}: {}", line, what));
}

StatusOr<double> Seconds(int line, std::string_view name, std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d) || d < 0 ||
      d > kMaxSeconds) {
    return LineError(line, fmt::format("{}: '{}' is not a number of seconds from 0 to 1e12", name,
                                       Printable(v)));
  }
  return d;
}

StatusOr<int> Gpus(int line, std::string_view name, std::string_view v) {
  int g = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), g);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || g <= 0 || g > kMaxGpus) {
    return LineError(line, fmt::format("{}: '{}' is not a whole number of GPUs from 1 to {}", name,
                                       Printable(v), kMaxGpus));
  }
  return g;
}

Status Name(int line, std::string_view what, std::string_view v, bool allow_empty) {
  if (v.empty() && !allow_empty) return LineError(line, fmt::format("{} is empty", what));
  if (v.size() > 200) return LineError(line, fmt::format("{} is longer than 200 bytes", what));
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      return LineError(line, fmt::format("{} '{}' has a control character, quote or backslash",
                                         what, Printable(v)));
    }
  }
  return Status::Ok();
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

StatusOr<Time> Timestamp(int line, std::string_view v) {
  // YYYY-MM-DD HH:MM:SS
  auto bad = [&] {
    return LineError(line, fmt::format("timestamp: '{}' is not YYYY-MM-DD HH:MM:SS", Printable(v)));
  };
  if (v.size() != 19 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' ||
      v[16] != ':') {
    return bad();
  }
  auto num = [&](size_t pos, size_t len, int* out) {
    int x = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
      x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) || !num(14, 2, &mi) ||
      !num(17, 2, &s)) {
    return bad();
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
      mi > 59 || s > 60) {
    return bad();
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

Status SetTenant(int line, std::string_view v, TraceJob* j) {
  RETURN_IF_ERROR(Name(line, "tenant", v, false));
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t s = v.find('/', start);
    parts.push_back(v.substr(start, s == std::string_view::npos ? s : s - start));
    if (s == std::string_view::npos) break;
    start = s + 1;
  }
  if (parts.size() > 3 ||
      std::any_of(parts.begin(), parts.end(), [](std::string_view p) { return p.empty(); })) {
    return LineError(line, fmt::format("tenant '{}' is not project, org/project or "
                                       "org/project/user",
                                       Printable(v)));
  }
  j->org = std::string(parts[0]);
  j->project = std::string(parts.size() > 1 ? parts[1] : parts[0]);
  j->user = parts.size() > 2 ? std::string(parts[2]) : "";
  return Status::Ok();
}

struct GenericColumns {
  int time_limit = -1;
  int gpu_type = -1;
  int job_class = -1;
  size_t count = 4;
};

StatusOr<GenericColumns> GenericHeader(const std::vector<std::string_view>& h) {
  static constexpr std::string_view kFirst[] = {"submit_seconds", "duration_seconds", "gpus",
                                                "tenant"};
  GenericColumns c;
  if (h.size() < 4 || !std::equal(kFirst, kFirst + 4, h.begin())) {
    return LineError(1, "the header must start with submit_seconds,duration_seconds,gpus,tenant");
  }
  for (size_t i = 4; i < h.size(); ++i) {
    int* slot = h[i] == "time_limit_seconds" ? &c.time_limit
                : h[i] == "gpu_type"         ? &c.gpu_type
                : h[i] == "class"            ? &c.job_class
                                             : nullptr;
    if (slot == nullptr) {
      return LineError(1, fmt::format("unknown column '{}' (optional columns: "
                                      "time_limit_seconds, gpu_type, class)",
                                      Printable(h[i])));
    }
    if (*slot >= 0) return LineError(1, fmt::format("column '{}' appears twice", h[i]));
    *slot = static_cast<int>(i);
  }
  c.count = h.size();
  return c;
}

}  // namespace

StatusOr<std::vector<TraceJob>> ParseTrace(std::string_view text, TraceFormat format) {
  std::vector<TraceJob> jobs;
  GenericColumns cols;
  bool header = true;
  int line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    std::vector<std::string_view> f = Split(l);
    if (header) {
      header = false;
      if (line != 1) return LineError(line, "the header must be the first line");
      if (format == TraceFormat::kPhilly) {
        if (l != "timestamp,duration,num_gpus,gpu_time,cluster") {
          return LineError(1, "the header must be timestamp,duration,num_gpus,gpu_time,cluster");
        }
      } else {
        ASSIGN_OR_RETURN(cols, GenericHeader(f));
      }
      continue;
    }
    TraceJob j;
    j.line = line;
    if (format == TraceFormat::kPhilly) {
      if (f.size() != 5) {
        return LineError(line, fmt::format("{} fields, want 5", f.size()));
      }
      ASSIGN_OR_RETURN(j.submit, Timestamp(line, f[0]));
      ASSIGN_OR_RETURN(double d, Seconds(line, "duration", f[1]));
      j.duration = static_cast<Time>(std::ceil(d));
      ASSIGN_OR_RETURN(j.gpus, Gpus(line, "num_gpus", f[2]));
      ASSIGN_OR_RETURN(double gt, Seconds(line, "gpu_time", f[3]));
      (void)gt;
      RETURN_IF_ERROR(Name(line, "cluster", f[4], false));
      j.org = j.project = std::string(f[4]);
      j.time_limit = DefaultTimeLimit(j.duration);
    } else {
      if (f.size() != cols.count) {
        return LineError(line, fmt::format("{} fields, want {}", f.size(), cols.count));
      }
      ASSIGN_OR_RETURN(double s, Seconds(line, "submit_seconds", f[0]));
      j.submit = static_cast<Time>(std::floor(s));
      ASSIGN_OR_RETURN(double d, Seconds(line, "duration_seconds", f[1]));
      j.duration = static_cast<Time>(std::ceil(d));
      ASSIGN_OR_RETURN(j.gpus, Gpus(line, "gpus", f[2]));
      RETURN_IF_ERROR(SetTenant(line, f[3], &j));
      j.time_limit = DefaultTimeLimit(j.duration);
      if (cols.time_limit >= 0 && !f[cols.time_limit].empty()) {
        ASSIGN_OR_RETURN(double tl, Seconds(line, "time_limit_seconds", f[cols.time_limit]));
        j.time_limit = static_cast<Time>(std::ceil(tl));
        if (j.time_limit <= 0) return LineError(line, "time_limit_seconds must be > 0");
      }
      if (cols.gpu_type >= 0) {
        RETURN_IF_ERROR(Name(line, "gpu_type", f[cols.gpu_type], true));
        j.gpu_type = std::string(f[cols.gpu_type]);
      }
      if (cols.job_class >= 0 && !f[cols.job_class].empty()) {
        auto c = ParseJobClass(f[cols.job_class]);
        if (!c.ok()) return LineError(line, c.status().message());
        j.job_class = *c;
      }
    }
    jobs.push_back(std::move(j));
  }
  if (header) return InvalidArgument("trace is empty (no header line)");
  if (jobs.empty()) return InvalidArgument("trace has no jobs");
  return jobs;
}

StatusOr<std::vector<TraceJob>> ReadTraceFile(const std::string& path, TraceFormat format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot open trace {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable(fmt::format("cannot read trace {}", path));
  auto r = ParseTrace(ss.str(), format);
  if (!r.ok()) return Status(r.status().code(), path + ": " + r.status().message());
  return r;
}

StatusOr<std::vector<NodeSpec>> ParseCluster(std::string_view spec) {
  std::vector<NodeSpec> nodes;
  auto bad = [&](std::string_view part) {
    return InvalidArgument(fmt::format(
        "--cluster: '{}' is not NODESxGPUS[:TYPE] (e.g. 64x8 or 48x8:A100)", Printable(part)));
  };
  size_t start = 0;
  while (true) {
    size_t c = spec.find(',', start);
    std::string_view part = spec.substr(start, c == std::string_view::npos ? c : c - start);
    std::string type = "GPU";
    std::string_view dims = part;
    if (size_t colon = part.find(':'); colon != std::string_view::npos) {
      type = std::string(part.substr(colon + 1));
      dims = part.substr(0, colon);
      if (type.empty() || !Name(0, "type", type, false).ok()) return bad(part);
    }
    size_t x = dims.find('x');
    if (x == std::string_view::npos) return bad(part);
    int n = 0, g = 0;
    auto a = std::from_chars(dims.data(), dims.data() + x, n);
    auto b = std::from_chars(dims.data() + x + 1, dims.data() + dims.size(), g);
    if (a.ec != std::errc() || a.ptr != dims.data() + x || b.ec != std::errc() ||
        b.ptr != dims.data() + dims.size() || n < 1 || n > 100000 || g < 1 || g > 1024) {
      return bad(part);
    }
    for (int i = 0; i < n; ++i) {
      nodes.push_back(NodeSpec{fmt::format("n{}", nodes.size()), g, type});
    }
    if (c == std::string_view::npos) break;
    start = c + 1;
  }
  return nodes;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

double JainIndex(const std::vector<double>& x) {
  if (x.empty()) return 1;
  double s = 0, s2 = 0;
  for (double v : x) s += v, s2 += v * v;
  if (s2 == 0) return 1;
  return s * s / (static_cast<double>(x.size()) * s2);
}

namespace {

// Max-min fair split of `capacity` among demands (water filling).
void WaterFill(const std::vector<int64_t>& demand, double capacity, std::vector<double>* out,
               std::vector<int>* order) {
  out->assign(demand.size(), 0);
  order->clear();
  for (int i = 0; i < static_cast<int>(demand.size()); ++i) {
    if (demand[i] > 0) order->push_back(i);
  }
  std::sort(order->begin(), order->end(), [&](int a, int b) { return demand[a] < demand[b]; });
  double left = capacity;
  size_t n = order->size();
  for (size_t k = 0; k < n; ++k) {
    int i = (*order)[k];
    double level = left / static_cast<double>(n - k);
    double give = std::min(static_cast<double>(demand[i]), level);
    (*out)[i] = give;
    left -= give;
  }
}

struct Completion {
  Time at;
  int job;
  int attempt;
  bool operator>(const Completion& o) const {
    if (at != o.at) return at > o.at;
    return job > o.job;
  }
};

}  // namespace

StatusOr<SimReport> Simulate(std::vector<TraceJob> jobs, const std::vector<NodeSpec>& nodes,
                             const SimOptions& options) {
  if (nodes.empty()) return InvalidArgument("the cluster has no nodes");
  std::stable_sort(jobs.begin(), jobs.end(), [](const TraceJob& a, const TraceJob& b) {
    return a.submit != b.submit ? a.submit < b.submit : a.line < b.line;
  });
  if (options.limit_jobs > 0 && jobs.size() > options.limit_jobs) jobs.resize(options.limit_jobs);

  SimReport rep;
  rep.policy = PolicyName(options.sched.policy);
  Scheduler sched(nodes, options.sched);
  rep.total_gpus = sched.total_gpus();
  {
    std::string s;
    for (size_t i = 0; i < nodes.size();) {
      size_t k = i;
      while (k < nodes.size() && nodes[k].gpus == nodes[i].gpus &&
             nodes[k].gpu_type == nodes[i].gpu_type) {
        ++k;
      }
      if (!s.empty()) s += ",";
      s += fmt::format("{}x{}:{}", k - i, nodes[i].gpus, nodes[i].gpu_type);
      i = k;
    }
    rep.cluster = s;
  }

  const int n = static_cast<int>(jobs.size());
  rep.jobs = n;
  std::unordered_map<std::string, int> tenant_index;
  std::vector<int> tenant_of(n);
  for (int i = 0; i < n; ++i) {
    auto [it, ins] = tenant_index.emplace(jobs[i].Tenant(), static_cast<int>(tenant_index.size()));
    tenant_of[i] = it->second;
  }
  const int nt = static_cast<int>(tenant_index.size());
  rep.tenants.resize(nt);
  for (auto& [name, i] : tenant_index) rep.tenants[i].tenant = name;

  std::vector<int64_t> running_t(nt, 0), demand_t(nt, 0);
  std::vector<double> entitled(nt), recv(nt, 0), ent(nt, 0);
  std::vector<int> wf_order;
  std::vector<int> node_used(nodes.size(), 0);
  std::vector<int> attempt(n, 0);
  std::vector<Time> started_at(n, -1);
  std::vector<JobRecord> rec(n);
  for (int i = 0; i < n; ++i) {
    rec[i].line = jobs[i].line;
    rec[i].tenant = rep.tenants[tenant_of[i]].tenant;
    rec[i].gpus = jobs[i].gpus;
    rec[i].submit = jobs[i].submit;
    rep.tenants[tenant_of[i]].jobs++;
  }
  std::unordered_map<JobId, int> by_id;  // job id (line) -> index
  by_id.reserve(n * 2);
  for (int i = 0; i < n; ++i) by_id.emplace(jobs[i].line, i);

  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> done;
  int next = 0;
  int64_t busy = 0;
  Time prev = n > 0 ? jobs[0].submit : 0;
  Time first_submit = prev, last_end = prev;
  double busy_gs = 0;
  auto use = [&](const std::vector<Slice>& slices, int sign) {
    for (const Slice& s : slices) {
      node_used[s.node] += sign * s.gpus;
      if (node_used[s.node] > nodes[s.node].gpus || node_used[s.node] < 0) rep.overcommits++;
    }
  };
  std::vector<std::vector<Slice>> where(n);

  while (next < n || !done.empty()) {
    Time t = next < n ? jobs[next].submit : done.top().at;
    if (!done.empty()) t = std::min(t, done.top().at);
    // Integrate utilisation and fairness over [prev, t).
    if (t > prev) {
      double dt = static_cast<double>(t - prev);
      busy_gs += static_cast<double>(busy) * dt;
      WaterFill(demand_t, static_cast<double>(rep.total_gpus), &entitled, &wf_order);
      for (int k = 0; k < nt; ++k) {
        recv[k] += static_cast<double>(running_t[k]) * dt;
        ent[k] += entitled[k] * dt;
      }
      prev = t;
    }
    while (!done.empty() && done.top().at == t) {
      Completion c = done.top();
      done.pop();
      if (c.attempt != attempt[c.job]) continue;  // preempted meanwhile
      RETURN_IF_ERROR(sched.Complete(jobs[c.job].line, t));
      const TraceJob& j = jobs[c.job];
      use(where[c.job], -1);
      busy -= j.gpus;
      running_t[tenant_of[c.job]] -= j.gpus;
      demand_t[tenant_of[c.job]] -= j.gpus;
      rec[c.job].end = t;
      rec[c.job].run_time = t - started_at[c.job];
      if (options.record_jobs) rec[c.job].runs.back().end = t;
      last_end = std::max(last_end, t);
      rep.completed++;
    }
    while (next < n && jobs[next].submit == t) {
      const TraceJob& j = jobs[next];
      JobSpec s;
      s.id = j.line;
      s.org = j.org;
      s.project = j.project;
      s.user = j.user;
      s.gpus = j.gpus;
      s.gpu_type = j.gpu_type;
      s.submit = j.submit;
      s.time_limit = j.time_limit;
      s.job_class = j.job_class;
      Status st = sched.Submit(s, t);
      if (!st.ok()) {
        if (st.kind() != "unschedulable") return st;
        rec[next].rejected = true;
        rep.rejected++;
      } else {
        demand_t[tenant_of[next]] += j.gpus;
      }
      ++next;
    }
    std::vector<Decision> ds = sched.Schedule(t);
    rep.passes++;
    for (Decision& d : ds) {
      auto it = by_id.find(d.job);
      if (it == by_id.end()) return Internal(fmt::format("decision for unknown job {}", d.job));
      int i = it->second;
      const TraceJob& j = jobs[i];
      if (d.kind == Decision::Kind::kStart) {
        use(d.slices, +1);
        where[i] = d.slices;
        busy += j.gpus;
        rep.max_busy_gpus = std::max(rep.max_busy_gpus, busy);
        running_t[tenant_of[i]] += j.gpus;
        if (rec[i].first_start < 0) rec[i].first_start = t;
        started_at[i] = t;
        Time run = j.duration;
        if (run > j.time_limit) {
          run = j.time_limit;
          rec[i].timed_out = true;
        }
        if (options.record_jobs) rec[i].runs.push_back(JobRun{t, -1, d.slices});
        done.push(Completion{t + run, i, attempt[i]});
      } else {
        use(where[i], -1);
        busy -= j.gpus;
        running_t[tenant_of[i]] -= j.gpus;
        attempt[i]++;
        rep.preemptions++;
        if (options.record_jobs) rec[i].runs.back().end = t;
      }
    }
  }
  if (rep.completed + rep.rejected != rep.jobs) {
    return Internal(fmt::format("replay ended with {} of {} jobs neither completed nor rejected",
                                rep.jobs - rep.completed - rep.rejected, rep.jobs));
  }

  std::vector<double> waits;
  double jct = 0, bsld = 0;
  for (int i = 0; i < n; ++i) {
    const JobRecord& r = rec[i];
    if (r.rejected) continue;
    rep.timed_out += r.timed_out;
    double c = static_cast<double>(r.end - r.submit);
    jct += c;
    waits.push_back(static_cast<double>(r.first_start - r.submit));
    bsld += std::max(1.0, c / std::max<double>(static_cast<double>(r.run_time), 10.0));
  }
  if (rep.completed > 0) {
    rep.avg_jct = jct / static_cast<double>(rep.completed);
    rep.avg_bounded_slowdown = bsld / static_cast<double>(rep.completed);
  }
  rep.p50_wait = Percentile(waits, 50);
  rep.p99_wait = Percentile(waits, 99);
  rep.makespan = last_end - first_submit;
  rep.busy_gpu_seconds = busy_gs;
  if (rep.makespan > 0) {
    rep.utilisation = busy_gs / (static_cast<double>(rep.total_gpus) * rep.makespan);
  }
  std::vector<double> ratios;
  for (int k = 0; k < nt; ++k) {
    TenantStat& ts = rep.tenants[k];
    ts.gpu_seconds = recv[k];
    ts.entitled_seconds = ent[k];
    if (ent[k] > 0) {
      ts.ratio = recv[k] / ent[k];
      ratios.push_back(ts.ratio);
    }
  }
  rep.jain = JainIndex(ratios);
  std::sort(rep.tenants.begin(), rep.tenants.end(), [](const TenantStat& a, const TenantStat& b) {
    return a.jobs != b.jobs ? a.jobs > b.jobs : a.tenant < b.tenant;
  });
  if (options.record_jobs) rep.records = std::move(rec);
  return rep;
}

std::string FormatReport(const SimReport& r, bool json, double wall_seconds) {
  std::string out;
  if (json) {
    // Tenant names were validated by the parser: no quotes, backslashes or control characters.
    out += fmt::format(
        "{{\"policy\":\"{}\",\"cluster\":\"{}\",\"total_gpus\":{},\"jobs\":{},\"completed\":{},"
        "\"rejected\":{},\"timed_out\":{},\"preemptions\":{},\"avg_jct_s\":{:.1f},"
        "\"p50_queue_delay_s\":{:.1f},\"p99_queue_delay_s\":{:.1f},"
        "\"avg_bounded_slowdown\":{:.3f},\"gpu_utilisation\":{:.4f},\"makespan_s\":{},"
        "\"jain_fairness\":{:.4f},",
        r.policy, r.cluster, r.total_gpus, r.jobs, r.completed, r.rejected, r.timed_out,
        r.preemptions, r.avg_jct, r.p50_wait, r.p99_wait, r.avg_bounded_slowdown, r.utilisation,
        r.makespan, r.jain);
    if (wall_seconds >= 0) out += fmt::format("\"wall_s\":{:.3f},", wall_seconds);
    out += "\"tenants\":[";
    for (size_t i = 0; i < r.tenants.size(); ++i) {
      const TenantStat& t = r.tenants[i];
      out += fmt::format(
          "{}{{\"tenant\":\"{}\",\"jobs\":{},\"gpu_hours\":{:.1f},"
          "\"entitled_gpu_hours\":{:.1f},\"ratio\":{:.4f}}}",
          i ? "," : "", t.tenant, t.jobs, t.gpu_seconds / 3600, t.entitled_seconds / 3600, t.ratio);
    }
    out += "]}\n";
    return out;
  }
  auto hours = [](double s) { return s / 3600.0; };
  out += fmt::format("policy                     {}\n", r.policy);
  out += fmt::format("cluster                    {} ({} GPUs)\n", r.cluster, r.total_gpus);
  out += fmt::format(
      "jobs                       {} (completed {}, rejected {}, timed out {}, "
      "preemptions {})\n",
      r.jobs, r.completed, r.rejected, r.timed_out, r.preemptions);
  out +=
      fmt::format("average JCT                {:.0f} s ({:.2f} h)\n", r.avg_jct, hours(r.avg_jct));
  out += fmt::format("queueing delay p50         {:.0f} s\n", r.p50_wait);
  out += fmt::format("queueing delay p99         {:.0f} s ({:.2f} h)\n", r.p99_wait,
                     hours(r.p99_wait));
  out += fmt::format("avg bounded slowdown (10s) {:.2f}\n", r.avg_bounded_slowdown);
  out += fmt::format("GPU utilisation            {:.2f} %\n", 100 * r.utilisation);
  out += fmt::format("makespan                   {} s ({:.2f} days)\n", r.makespan,
                     r.makespan / 86400.0);
  out += fmt::format("fairness (Jain)            {:.4f}\n", r.jain);
  if (wall_seconds >= 0) out += fmt::format("wall time                  {:.2f} s\n", wall_seconds);
  out += "\ntenant      jobs     GPU-h received  GPU-h entitled  ratio\n";
  for (const TenantStat& t : r.tenants) {
    out += fmt::format("{:<10} {:>6} {:>16.0f} {:>15.0f} {:>6.3f}\n", t.tenant, t.jobs,
                       hours(t.gpu_seconds), hours(t.entitled_seconds), t.ratio);
  }
  out +=
      "\nJCT = completion - submit; queueing delay = first start - submit (nearest rank);\n"
      "bounded slowdown = max(1, JCT / max(run time, 10 s)); utilisation = busy GPU-s /\n"
      "(GPUs x makespan); fairness = Jain's index over tenants of received / entitled\n"
      "GPU-s, entitled = an equal split of the GPUs among tenants with demand, capped at\n"
      "each tenant's demand (max-min fair).\n";
  return out;
}

}  // namespace openlab::compute
