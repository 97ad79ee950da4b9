// The city-scale benchmark (bench/city_scale.sh runs it against a fresh server): builds a centre
// ten times Gwangju's through the public API, then measures every list, search and operator view
// at p50/p99 (a first page and a deep one) and the job pipeline as a new project sees it.
//
// At --scale 1: 2,000 organisations, 20,000 users, 20,000 projects, 40,000 memberships (each user
// a member of an organisation and the PI of a project; only a PI adds a project's members, so only
// the 100 users who submit jobs add one more each), 20,000 grants, 5,000 datasets, and 1,000,000
// queued jobs of those 100 projects, submitted as job arrays of 1,000 (the API's bulk path: one
// request, one transaction).
// Smaller scales keep the proportions, for a quick run. --datasets and --jobs set those two
// counts instead of the scale's (the web console's benchmark, bench/console_lcp.sh, seeds 10,000
// datasets and 110,000 jobs beside a scale-0.5 centre, so that 100,000 stay queued while it
// measures); --seed-only builds the centre, prints what it made (one JSON line) and exits,
// measuring nothing.
//
// Usage: city_scale --url URL --token OPERATOR_TOKEN [--scale S] [--connections N]
//                   [--samples N] [--pipeline-jobs N] [--datasets N] [--jobs N] [--seed-only]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/data_connection.h"

namespace {

namespace json = boost::json;
using openlab::client::Credentials;
using openlab::client::DataConnection;
using openlab::client::HttpResult;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string url, token;
  double scale = 1.0;
  int connections = 4;
  int samples = 50;
  int pipeline_jobs = 2000;
  int server_pid = 0;  // > 0: the server's CPU is read from /proc while it idles with the backlog
  int cpus = 0;        // the CPUs the server lends (filled for the idle measurement)
  int datasets = -1;   // >= 0: this many datasets instead of the scale's
  int jobs = -1;       // >= 0: this many queued jobs (rounded up to arrays of 1,000)
  bool seed_only = false;
};

[[noreturn]] void Die(const std::string& m) {
  std::cerr << "city_scale: " << m << "\n";
  std::exit(1);
}

// One request that must answer `want`; anything else stops the run, naming the request.
json::value Must(DataConnection& c, const std::string& method, const std::string& path,
                 const std::string& body, int want, const DataConnection::Headers& extra = {}) {
  auto r = c.Send(method, path, body, body.empty() ? "" : "application/json", extra);
  // A write that lost a serialization race (409, "aborted") is retried, as a client should.
  for (int i = 0; i < 5 && r.ok() && r->status == 409 && want != 409 &&
                  r->body.find("problem:aborted") != std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10 << i));
    r = c.Send(method, path, body, body.empty() ? "" : "application/json", extra);
  }
  if (!r.ok()) Die(fmt::format("{} {}: {}", method, path, r.status().message()));
  if (r->status != want) {
    Die(fmt::format("{} {} answered {} (wanted {}): {}", method, path, r->status, want,
                    r->body.substr(0, 300)));
  }
  if (r->body.empty()) return nullptr;
  return json::parse(r->body);
}

std::string Id(const json::value& v) { return std::string(v.at("id").as_string()); }

// Runs fn(i) for i in [0, n) on `threads` connections of `creds`.
void Parallel(const Credentials& creds, int threads, int n,
              const std::function<void(DataConnection&, int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      DataConnection c(creds);
      for (int i = next++; i < n; i = next++) fn(c, i);
    });
  }
  for (auto& t : ts) t.join();
}

void Phase(const char* what, Clock::time_point since, int n) {
  double s = std::chrono::duration<double>(Clock::now() - since).count();
  std::cout << fmt::format("seed  {:<44} {:>9} in {:7.1f} s ({:8.0f}/s)\n", what, n, s, n / s)
            << std::flush;
}

// Signs `username` in with the benchmark's password and makes an API token with `scopes` (a JSON
// array) through the session, as a person would.
std::string LoginToken(const std::string& url, const std::string& username,
                       const std::string& scopes) {
  DataConnection h(Credentials{url, ""});
  auto r = h.Send("POST", "/api/v1/login",
                  fmt::format(R"({{"username":"{}","password":"city-scale-password"}})", username),
                  "application/json");
  if (!r.ok() || r->status != 200) Die(fmt::format("login of {} failed", username));
  std::string cookie = r->headers["set-cookie"];
  cookie = cookie.substr(0, cookie.find(';'));
  std::string csrf(json::parse(r->body).at("csrf_token").as_string());
  return std::string(Must(h, "POST", "/api/v1/tokens",
                          fmt::format(R"({{"name":"city-scale","scopes":{}}})", scopes), 201,
                          {{"cookie", cookie}, {"x-csrf-token", csrf}})
                         .at("secret")
                         .as_string());
}

struct Centre {
  std::vector<std::string> orgs, users, projects, submit_tokens, submit_projects;
  std::string sample_user, sample_project, sample_org;
  int datasets = 0, jobs = 0;
};

Centre Seed(const Args& a) {
  Credentials op{a.url, a.token};
  Centre c;
  const int n_orgs = std::max(2, static_cast<int>(2000 * a.scale));
  const int n_users = std::max(4, static_cast<int>(20000 * a.scale));
  const int n_projects = n_users;  // each user is the PI of one project
  const int n_datasets =
      a.datasets >= 0 ? a.datasets : std::max(2, static_cast<int>(5000 * a.scale));
  const int n_jobs = a.jobs >= 0 ? (a.jobs + 999) / 1000 * 1000
                                 : std::max(1000, static_cast<int>(1000000 * a.scale));
  const int n_submitters = std::max(2, static_cast<int>(100 * a.scale));
  c.orgs.resize(n_orgs);
  c.users.resize(n_users);
  c.projects.resize(n_projects);

  auto t = Clock::now();
  Parallel(op, a.connections, n_orgs, [&](DataConnection& h, int i) {
    c.orgs[i] = Id(Must(h, "POST", "/api/v1/orgs",
                        fmt::format(R"({{"name":"org-{}","kind":"{}","region":"KR-{:02}"}})", i,
                                    i % 3 == 0 ? "university" : "startup", 11 + i % 20),
                        201));
  });
  Phase("organisations", t, n_orgs);

  t = Clock::now();
  Parallel(op, a.connections, n_users, [&](DataConnection& h, int i) {
    // The first users can log in: they submit the backlog's jobs.
    std::string pw = i < n_submitters ? R"(,"password":"city-scale-password")" : "";
    c.users[i] = Id(Must(
        h, "POST", "/api/v1/users",
        fmt::format(R"({{"username":"user{}","email":"user{}@example.org"{}}})", i, i, pw), 201));
  });
  Phase("users", t, n_users);

  t = Clock::now();
  Parallel(op, a.connections, n_users, [&](DataConnection& h, int i) {
    Must(h, "PUT", fmt::format("/api/v1/orgs/{}/members/{}", c.orgs[i % n_orgs], c.users[i]),
         R"({"role":"member"})", 200);
  });
  Phase("organisation memberships", t, n_users);

  t = Clock::now();
  Parallel(op, a.connections, n_projects, [&](DataConnection& h, int i) {
    c.projects[i] = Id(Must(h, "POST", "/api/v1/projects",
                            fmt::format(R"({{"org_id":"{}","name":"project-{}","pi":"{}"}})",
                                        c.orgs[i % n_orgs], i, c.users[i]),
                            201));
  });
  Phase("projects (with their PI)", t, n_projects);

  t = Clock::now();
  Parallel(op, a.connections, n_projects, [&](DataConnection& h, int i) {
    Must(h, "POST", fmt::format("/api/v1/projects/{}/allocations", c.projects[i]),
         fmt::format(R"({{"resource":"{}","hours":{},"expires_at":"2099-01-01T00:00:00Z"}})",
                     i % 4 == 0 ? "gpu:H100" : "cpu", 100 + i % 900),
         201);
  });
  Phase("grants", t, n_projects);

  t = Clock::now();
  Parallel(op, a.connections, n_datasets, [&](DataConnection& h, int i) {
    static const char* kLevels[] = {"open", "registered", "project", "restricted"};
    static const char* kTags[] = {"mobility", "energy", "health", "air", "water"};
    Must(h, "POST", "/api/v1/datasets",
         fmt::format(R"({{"project_id":"{}","name":"dataset-{}","title":"City {} data {}",)"
                     R"("license":"CC-BY-4.0","access_level":"{}","tags":["{}"]}})",
                     c.projects[i % n_projects], i, kTags[i % 5], i, kLevels[i % 4], kTags[i % 5]),
         201);
  });
  Phase("datasets", t, n_datasets);

  // The submitters log in and make a token (the backlog is theirs). Their projects have CPU
  // grants: project i has "cpu" unless i % 4 == 0.
  t = Clock::now();
  for (int i = 0; i < n_submitters; ++i) {
    int p = i % 4 == 0 ? i + 1 : i;  // a project with a CPU grant whose PI is user p
    if (p >= n_submitters) p = 1;
    c.submit_tokens.push_back(LoginToken(a.url, fmt::format("user{}", p),
                                         R"(["jobs:write","jobs:read","projects:write"])"));
    c.submit_projects.push_back(c.projects[p]);
    // Only a project's PI adds its members: the submitters add one colleague each.
    DataConnection pi(Credentials{a.url, c.submit_tokens.back()});
    Must(pi, "PUT",
         fmt::format("/api/v1/projects/{}/members/{}", c.projects[p],
                     c.users[(p + n_orgs) % n_users]),
         R"({"role":"member"})", 200);
  }
  Phase("submitters logged in, tokens made", t, n_submitters);

  t = Clock::now();
  const int arrays = n_jobs / 1000;
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < a.connections; ++k) {
    ts.emplace_back([&, k] {
      for (int i = next++; i < arrays; i = next++) {
        size_t s = static_cast<size_t>(i) % c.submit_tokens.size();
        DataConnection h(Credentials{a.url, c.submit_tokens[s]});
        Must(h, "POST", "/api/v1/jobs",
             fmt::format(R"({{"project_id":"{}","name":"backlog","command":["true"],)"
                         R"("cpus":1,"time_limit_s":60,"array":1000}})",
                         c.submit_projects[s]),
             201);
      }
    });
  }
  for (auto& th : ts) th.join();
  Phase("queued jobs (arrays of 1,000)", t, arrays * 1000);

  c.datasets = n_datasets;
  c.jobs = arrays * 1000;
  c.sample_user = c.users[n_users / 2];
  c.sample_project = c.submit_projects[0];
  c.sample_org = c.orgs[n_orgs / 2];
  return c;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// Times `path` (a first page), then the page `deep` cursors further on; prints p50/p99 of each.
void MeasureList(DataConnection& h, const std::string& name, const std::string& path, int samples,
                 int deep) {
  auto time = [&](const std::string& p) {
    std::vector<double> ms;
    for (int i = 0; i < samples; ++i) {
      auto t = Clock::now();
      Must(h, "GET", p, "", 200);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    return ms;
  };
  auto first = time(path);
  std::string deep_path;
  if (deep > 0) {
    std::string p = path;
    for (int i = 0; i < deep; ++i) {
      auto v = Must(h, "GET", p, "", 200);
      const json::value* next = v.as_object().if_contains("next_cursor");
      if (next == nullptr || !next->is_string()) break;
      p = path + (path.find('?') == std::string::npos ? "?" : "&") +
          "cursor=" + std::string(next->as_string());
      deep_path = p;
    }
  }
  std::cout << fmt::format("view  {:<44} first p50 {:7.2f} ms  p99 {:7.2f} ms", name,
                           Percentile(first, 0.5), Percentile(first, 0.99));
  if (!deep_path.empty()) {
    auto d = time(deep_path);
    std::cout << fmt::format("   page {:>3} p50 {:7.2f} ms  p99 {:7.2f} ms", deep,
                             Percentile(d, 0.5), Percentile(d, 0.99));
  }
  std::cout << "\n" << std::flush;
}

// How much sign-ups delay other writes: a small write (an organisation created: one row and
// its audit record) timed alone, then while two connections create users with passwords (each
// an Argon2id hash) as fast as the server takes them. The same run gives both.
void WriteDelay(const Args& a) {
  Credentials op{a.url, a.token};
  const int n = std::max(100, a.samples * 4);
  std::atomic<int> next_org{0};
  auto writes = [&](const char* what) {
    DataConnection h(op);
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      Must(h, "POST", "/api/v1/orgs",
           fmt::format(R"({{"name":"delay-{}","kind":"startup","region":"KR-11"}})", next_org++),
           201);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    std::cout << fmt::format("write a small write {:<34} p50 {:7.2f} ms  p99 {:7.2f} ms\n", what,
                             Percentile(ms, 0.5), Percentile(ms, 0.99));
  };
  writes("alone");
  std::atomic<bool> stop{false};
  std::atomic<int> signed_up{0};
  std::vector<std::thread> signups;
  for (int t = 0; t < 2; ++t) {
    signups.emplace_back([&, t] {
      DataConnection h(op);
      for (int i = 0; !stop; ++i) {
        Must(h, "POST", "/api/v1/users",
             fmt::format(R"({{"username":"signup-{}-{}","email":"s{}-{}@example.org",)"
                         R"("password":"city-scale-password"}})",
                         t, i, t, i),
             201);
        signed_up++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto t = Clock::now();
  int before = signed_up;
  writes("during sign-ups");
  double s = std::chrono::duration<double>(Clock::now() - t).count();
  stop = true;
  for (auto& th : signups) th.join();
  std::cout << fmt::format("write users created with a password meanwhile: {:.0f}/s\n",
                           (signed_up - before) / s);
}

void Measure(const Args& a, const Centre& c) {
  DataConnection op(Credentials{a.url, a.token});
  const int n = a.samples;
  MeasureList(op, "orgs", "/api/v1/orgs?limit=50", n, 20);
  MeasureList(op, "users", "/api/v1/users?limit=50", n, 20);
  MeasureList(op, "projects", "/api/v1/projects?limit=50", n, 20);
  MeasureList(op, "projects of an org", "/api/v1/projects?org_id=" + c.sample_org, n, 0);
  MeasureList(op, "members of a project", "/api/v1/projects/" + c.sample_project + "/members", n,
              0);
  MeasureList(op, "grants of a project", "/api/v1/projects/" + c.sample_project + "/allocations", n,
              0);
  MeasureList(op, "operator queue (queued, 500)", "/api/v1/jobs?state=queued&limit=500", n, 20);
  MeasureList(op, "jobs of a project", "/api/v1/jobs?project_id=" + c.sample_project + "&limit=50",
              n, 20);
  MeasureList(op, "datasets", "/api/v1/datasets?limit=50", n, 20);
  MeasureList(op, "dataset search", "/api/v1/datasets?q=energy&limit=50", n, 10);
  MeasureList(op, "datasets by tag", "/api/v1/datasets?tag=health&limit=50", n, 10);
  MeasureList(op, "audit", "/api/v1/audit?limit=50", n, 20);
  MeasureList(op, "audit by actor", "/api/v1/audit?actor=" + c.sample_user + "&limit=50", n, 0);
  MeasureList(op, "hoarding", "/api/v1/ops/hoarding", n, 0);
  MeasureList(op, "usage", "/api/v1/ops/usage", n, 0);
  MeasureList(op, "utilisation", "/api/v1/ops/utilisation", n, 0);
  DataConnection member(Credentials{a.url, c.submit_tokens[0]});
  MeasureList(member, "a member's jobs", "/api/v1/jobs?limit=50", n, 20);
}

// The sum of the series of `name` in the server's /metrics.
int64_t Metric(DataConnection& op, const std::string& name) {
  auto r = op.Send("GET", "/metrics", "", "");
  if (!r.ok() || r->status != 200) Die("GET /metrics failed");
  int64_t n = 0;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) == 0 && (line[name.size()] == '{' || line[name.size()] == ' ')) {
      n += std::stoll(line.substr(line.rfind(' ') + 1));
    }
  }
  return n;
}

// A new project of `user` in `org`, with CPU hours to spend.
std::string NewProject(DataConnection& op, const std::string& org, const std::string& user,
                       const std::string& name) {
  std::string project =
      Id(Must(op, "POST", "/api/v1/projects",
              fmt::format(R"({{"org_id":"{}","name":"{}","pi":"{}"}})", org, name, user), 201));
  Must(op, "POST", fmt::format("/api/v1/projects/{}/allocations", project),
       R"({"resource":"cpu","hours":100000,"expires_at":"2099-01-01T00:00:00Z"})", 201);
  return project;
}

// The number of `project`'s jobs in `state` (page by page).
int CountJobs(DataConnection& c, const std::string& project, const std::string& state) {
  int n = 0;
  std::string path = "/api/v1/jobs?project_id=" + project + "&state=" + state + "&limit=500";
  for (std::string p = path;;) {
    auto v = Must(c, "GET", p, "", 200);
    n += static_cast<int>(v.at("items").as_array().size());
    const json::value& next = v.at("next_cursor");
    if (!next.is_string()) break;
    p = path + "&cursor=" + std::string(next.as_string());
  }
  return n;
}

// The centre full, its backlog waiting: a project with no usage (so the first in line for each
// CPU that frees) fills every CPU with long jobs as the backlog's short ones end; then the
// server's own CPU is read from /proc over 10 s, with no API traffic. The long jobs are
// cancelled after (and have a time limit, should the run be stopped before).
void Idle(const Args& a, DataConnection& op, DataConnection& me, const std::string& org,
          const std::string& user) {
  if (a.server_pid <= 0 || a.cpus <= 0) return;
  std::string project = NewProject(op, org, user, "holder");
  auto v = Must(me, "POST", "/api/v1/jobs",
                fmt::format(R"({{"project_id":"{}","name":"hold","command":["sleep","600"],)"
                            R"("cpus":1,"time_limit_s":300,"array":{}}})",
                            project, a.cpus),
                201);
  auto t = Clock::now();
  while (CountJobs(me, project, "running") < a.cpus) {
    if (std::chrono::duration<double>(Clock::now() - t).count() > 120) {
      std::cout << "idle  not measured: the long jobs did not all start within 120 s\n";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto ticks = [&] {
    std::ifstream in(fmt::format("/proc/{}/stat", a.server_pid));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    int64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stoll(f);
      if (i == 15) stime = std::stoll(f);
    }
    return utime + stime;
  };
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last start's aftermath
  int64_t t0 = ticks();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  int64_t used = ticks() - t0;
  std::cout << fmt::format(
      "idle  server CPU, every CPU busy and {} jobs queued: {:.1f}% of a core\n",
      Metric(op, "openlab_jobs_queued"),
      100.0 * static_cast<double>(used) / sysconf(_SC_CLK_TCK) / 10);
  for (const json::value& job : v.at("items").as_array()) {
    Must(me, "POST", "/api/v1/jobs/" + Id(job) + "/cancel", "", 202);
  }
}

// A project with no usage submits behind the backlog: how long its first job waits to start,
// and how fast `jobs` trivial jobs of it start and complete.
void Pipeline(const Args& a, const Centre& c) {
  DataConnection op(Credentials{a.url, a.token});
  std::string user = Id(Must(
      op, "POST", "/api/v1/users",
      R"({"username":"newcomer","email":"n@example.org","password":"city-scale-password"})", 201));
  Must(op, "PUT", fmt::format("/api/v1/orgs/{}/members/{}", c.sample_org, user),
       R"({"role":"member"})", 200);
  // The backlog's projects have all used the machine (one job each ended, at least): a project
  // with no usage is then the one fair share puts first. (Before that, the backlog's projects
  // that have not run yet have no usage either, and their older jobs go first.)
  auto since = Clock::now();
  for (const std::string& p : c.submit_projects) {
    while (Must(op, "GET", "/api/v1/jobs?project_id=" + p + "&state=completed&limit=1", "", 200)
               .at("items")
               .as_array()
               .empty()) {
      if (std::chrono::duration<double>(Clock::now() - since).count() > 600) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::cout << fmt::format("pipe  every backlog project had run a job {:.1f} s later\n",
                           std::chrono::duration<double>(Clock::now() - since).count());
  std::string project = NewProject(op, c.sample_org, user, "newcomer");
  std::string token = LoginToken(a.url, "newcomer", R"(["jobs:write","jobs:read"])");
  DataConnection me(Credentials{a.url, token});

  auto t = Clock::now();
  auto job = Must(me, "POST", "/api/v1/jobs",
                  fmt::format(R"({{"project_id":"{}","name":"first","command":["true"],"cpus":1,)"
                              R"("time_limit_s":60}})",
                              project),
                  201);
  const json::value* items = job.as_object().if_contains("items");
  std::string id = Id(items != nullptr ? items->as_array().at(0) : job);
  const double kGiveUp = 600;
  std::map<std::string, int> reasons;  // what the job said while it waited (one look per 20 ms)
  const int64_t passes_before = Metric(op, "openlab_scheduler_passes_total");
  for (;;) {
    auto v = Must(me, "GET", "/api/v1/jobs/" + id, "", 200);
    std::string state(v.at("state").as_string());
    if (state != "queued") break;
    std::string reason(v.at("reason").as_string());
    reasons[reason.substr(0, reason.find(' '))]++;
    if (std::chrono::duration<double>(Clock::now() - t).count() > kGiveUp) {
      std::cout << "pipe  newcomer's first job: still queued after 600 s\n";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << fmt::format("pipe  newcomer's first job left the queue after {:.3f} s",
                           std::chrono::duration<double>(Clock::now() - t).count());
  for (const auto& [reason, n] : reasons) std::cout << fmt::format(" ({}: {} looks)", reason, n);
  std::cout << fmt::format(" ({} scheduling passes meanwhile)\n",
                           Metric(op, "openlab_scheduler_passes_total") - passes_before);

  // Done: every job in an end state (completed, failed, timeout...), counted page by page.
  auto ended = [&] {
    int n = 0;
    for (const char* state : {"completed", "failed", "timeout", "cancelled", "node_fail"}) {
      n += CountJobs(me, project, state);
    }
    return n;
  };
  // The first job ends before the burst, so that what ends from here on is the burst's.
  for (int i = 0; i < 3000 && ended() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Every project's ended runs: the backlog's jobs run too, beside the burst's.
  auto ended_all = [&] { return Metric(op, "openlab_jobs_ended_total"); };
  const int before = ended();
  const int64_t before_all = ended_all();
  t = Clock::now();
  for (int submitted = 0; submitted < a.pipeline_jobs; submitted += 1000) {
    int n = std::min(1000, a.pipeline_jobs - submitted);
    Must(me, "POST", "/api/v1/jobs",
         fmt::format(
             R"({{"project_id":"{}","name":"burst","command":["true"],"cpus":1,"time_limit_s":60,)"
             R"("array":{}}})",
             project, n),
         201);
  }
  int done = 0;
  const double kBurstWindow = 180;  // the rate of what ended by then, if not all did
  while ((done = ended() - before) < a.pipeline_jobs &&
         std::chrono::duration<double>(Clock::now() - t).count() < kBurstWindow) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  double s = std::chrono::duration<double>(Clock::now() - t).count();
  int64_t all = ended_all() - before_all;
  std::cout << fmt::format(
      "pipe  {} of {} trivial jobs started and completed in {:.1f} s: {:.1f}/s\n", done,
      a.pipeline_jobs, s, done / s);
  std::cout << fmt::format("pipe  every project's runs that ended meanwhile: {} ({:.1f}/s)\n", all,
                           all / s);
  Idle(a, op, me, c.sample_org, user);
}

// A count given on the command line: a number, not negative.
int Count(const std::string& v) {
  int n = std::stoi(v);
  if (n < 0) throw std::invalid_argument(v);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  // Each option and where its value goes.
  const std::map<std::string, std::function<void(const std::string&)>> options = {
      {"--url", [&](const std::string& v) { a.url = v; }},
      {"--token", [&](const std::string& v) { a.token = v; }},
      {"--scale", [&](const std::string& v) { a.scale = std::stod(v); }},
      {"--connections", [&](const std::string& v) { a.connections = std::stoi(v); }},
      {"--samples", [&](const std::string& v) { a.samples = std::stoi(v); }},
      {"--pipeline-jobs", [&](const std::string& v) { a.pipeline_jobs = std::stoi(v); }},
      {"--server-pid", [&](const std::string& v) { a.server_pid = std::stoi(v); }},
      {"--cpus", [&](const std::string& v) { a.cpus = std::stoi(v); }},
      {"--datasets", [&](const std::string& v) { a.datasets = Count(v); }},
      {"--jobs", [&](const std::string& v) { a.jobs = Count(v); }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--seed-only") {  // the one option without a value
      a.seed_only = true;
      continue;
    }
    auto option = options.find(k);
    if (option == options.end()) Die("unknown option " + k);
    if (i + 1 >= argc) Die(k + " needs a value");
    try {
      option->second(argv[++i]);
    } catch (const std::exception&) {
      Die(k + " needs a number");
    }
  }
  if (a.url.empty() || a.token.empty()) Die("--url and --token are required");
  if (a.scale <= 0 || a.scale > 10 || a.connections < 1 || a.samples < 1) Die("bad option value");
  if (a.datasets > 10000000 || a.jobs > 100000000) Die("bad option value");
  Centre c = Seed(a);
  if (a.seed_only) {
    std::cout << json::serialize(json::object{
                     {"organisations", c.orgs.size()},
                     {"users", c.users.size()},
                     {"projects", c.projects.size()},
                     {"datasets", c.datasets},
                     {"queued_jobs", c.jobs},
                     {"submitting_projects", c.submit_projects.size()},
                 })
              << "\n";
    return 0;
  }
  Measure(a, c);
  WriteDelay(a);
  Pipeline(a, c);
  return 0;
}
