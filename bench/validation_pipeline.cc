// Validation's pipeline end to end (bench/validation_pipeline.sh runs it against a fresh
// `openlab serve`): --submissions predictions files of --rows rows each, from --users
// participants over --connections parallel connections, measured from the first POST until the
// last one is scored and its participant on the leaderboard. Beside it, in the same run, the
// same number of plain authenticated POSTs (an organisation created each) over as many
// connections: the server's cost of a small write, with no file to check or score.
//
// Reports: the POSTs' rate and latency, the whole pipeline's rate, the scorer's time per
// submission (from each submission's history: "scoring" to "scored") and how long submissions
// waited in the queue.
//
// Usage: validation_pipeline --url URL --token OPERATOR_TOKEN [--submissions 1000]
//                            [--rows 10000] [--users 50] [--connections 8]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/data_connection.h"
#include "client/push.h"
#include "common/clock.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using openlab::client::DataConnection;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& m) {
  std::cerr << "validation_pipeline: " << m << "\n";
  std::exit(1);
}

// One request that must answer `want` (0: any 2xx).
json::value Must(DataConnection& c, const std::string& method, const std::string& path,
                 const std::string& body, int want, const DataConnection::Headers& extra = {}) {
  auto r = c.Send(method, path, body, body.empty() ? "" : "application/json", extra);
  if (!r.ok()) Die(fmt::format("{} {}: {}", method, path, r.status().message()));
  if (want == 0 ? r->status / 100 != 2 : r->status != want) {
    Die(fmt::format("{} {} answered {} (wanted {}): {}", method, path, r->status, want,
                    r->body.substr(0, 300)));
  }
  if (r->body.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string Str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

// "2026-12-04T16:47:29.123Z" -> ms since the epoch.
int64_t Ms(const json::value& v) {
  if (!v.is_string()) return 0;
  std::tm t{};
  int ms = 0;
  if (std::sscanf(std::string(v.as_string()).c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &t.tm_year,
                  &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &ms) < 6) {
    return 0;
  }
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000 + ms;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A user with a password, signed in once for an API token.
std::string MakeUser(const std::string& url, DataConnection& op, const std::string& name) {
  const std::string pw = "a long enough password";
  Must(op, "POST", "/api/v1/users",
       fmt::format(R"({{"username":"{}","email":"{}@pipe.kr","password":"{}"}})", name, name, pw),
       201);
  DataConnection anon({url, ""});
  auto login = anon.Send("POST", "/api/v1/login",
                         fmt::format(R"({{"username":"{}","password":"{}"}})", name, pw),
                         "application/json");
  if (!login.ok() || login->status != 200) Die("login of " + name + " failed");
  std::string cookie = login->headers["set-cookie"];
  cookie = cookie.substr(0, cookie.find(';'));
  std::string csrf = Str(json::parse(login->body), "csrf_token");
  auto tok =
      Must(anon, "POST", "/api/v1/tokens", R"({"name":"bench","scopes":["*"],"expires_in_days":7})",
           201, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  return Str(tok, "secret");
}

// Runs `n` requests over `connections` threads; returns each request's latency in ms.
std::vector<double> Parallel(int n, int connections,
                             const std::function<double(int thread, int i)>& one) {
  std::vector<double> ms(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += connections) ms[i] = one(t, i);
    });
  }
  for (auto& th : threads) th.join();
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) Die("flags are --name value: " + k);
    f[k.substr(2)] = argv[i + 1];
  }
  auto num = [&](const char* k, int d) { return f.count(k) ? std::stoi(f[k]) : d; };
  if (!f.count("url") || !f.count("token")) Die("--url and --token are required");
  const std::string url = f["url"];
  const int n = num("submissions", 1000), rows = num("rows", 10000), users = num("users", 50),
            conns = num("connections", 8);

  // ---- the centre, through the API (not timed)
  DataConnection op({url, f["token"]});
  auto org = Must(op, "POST", "/api/v1/orgs",
                  R"({"name":"pipe","kind":"university","region":"KR-29"})", 201);
  std::string organiser = MakeUser(url, op, "organiser");
  Must(op, "PUT", "/api/v1/orgs/" + Str(org, "id") + "/members/organiser", R"({"role":"member"})",
       0);
  DataConnection o({url, organiser});
  auto prj = Must(o, "POST", "/api/v1/projects",
                  fmt::format(R"({{"org_id":"{}","name":"pipe"}})", Str(org, "id")), 201);
  auto ds = Must(o, "POST", "/api/v1/datasets",
                 fmt::format(R"({{"project_id":"{}","name":"pipe-truth","license":"CC-BY-4.0",)"
                             R"("access_level":"hidden"}})",
                             Str(prj, "id")),
                 201);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<double> values(rows);
  std::string dir = fs::temp_directory_path() / ("openlab-pipe-truth-" + std::to_string(getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir + "/truth.csv");
    out << "id,value\n";
    for (int i = 0; i < rows; ++i) {
      values[i] = std::round(u(rng) * 100) / 100;
      out << fmt::format("r{},{:.2f}\n", i, values[i]);
    }
  }
  openlab::client::PushOptions po;
  po.dir = dir;
  po.dataset = Str(ds, "id");
  po.tag = "v1";
  auto pushed = openlab::client::Push({url, organiser}, po);
  fs::remove_all(dir);
  if (!pushed.ok()) Die("push of the truth: " + pushed.status().ToString());
  int64_t now = openlab::Clock::Real()->NowMs();
  auto b = Must(
      o, "POST", "/api/v1/benchmarks",
      fmt::format(
          R"({{"project_id":"{}","name":"pipe","title":"A busy contest",)"
          R"("task_type":"regression","metrics":[{{"name":"mae","primary":true}},"rmse","r2"],)"
          R"("rules":{{"max_per_day":1000,"max_total":1000}},)"
          R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
          R"("truth_dataset":"{}","truth_version":"v1"}}]}})",
          Str(prj, "id"), openlab::FormatTime(now - 3600'000), openlab::FormatTime(now + 86400'000),
          Str(ds, "id")),
      201);
  const std::string bmk = Str(b, "id");
  auto t_users = Clock::now();
  std::vector<std::string> tokens(users);
  for (int i = 0; i < users; ++i) tokens[i] = MakeUser(url, op, fmt::format("p{:03}", i));
  std::cerr << fmt::format("{} participants signed in in {:.1f} s\n", users,
                           Seconds(t_users, Clock::now()));
  // The files: submission k is off the truth by its own noise on two rows in three.
  std::vector<std::string> files(n);
  size_t total_bytes = 0;
  for (int k = 0; k < n; ++k) {
    double noise = 0.01 * (1 + k);
    std::string& s = files[k];
    s = "id,value\n";
    for (int i = 0; i < rows; ++i) {
      s += fmt::format("r{},{:.4f}\n", i, values[i] + noise * ((i % 3) - 1));
    }
    total_bytes += s.size();
  }

  std::cout << fmt::format(
      "validation pipeline: {} submissions of {} rows ({:.1f} MB in all) from {} participants "
      "over {} connections; {} cores; {}\n",
      n, rows, total_bytes / 1e6, users, conns, std::thread::hardware_concurrency(), url);

  // ---- the baseline: as many plain authenticated POSTs (an organisation each)
  {
    std::vector<std::unique_ptr<DataConnection>> cs;
    for (int t = 0; t < conns; ++t)
      cs.push_back(std::make_unique<DataConnection>(op.credentials()));
    auto t0 = Clock::now();
    auto ms = Parallel(n, conns, [&](int t, int i) {
      auto s = Clock::now();
      Must(*cs[t], "POST", "/api/v1/orgs",
           fmt::format(R"({{"name":"base-{}","kind":"university","region":"KR-29"}})", i), 201);
      return std::chrono::duration<double, std::milli>(Clock::now() - s).count();
    });
    double secs = Seconds(t0, Clock::now());
    std::cout << fmt::format(
        "baseline  {} POST /api/v1/orgs          {:6.1f} s  {:7.1f}/s  p50 {:7.2f} ms  p99 "
        "{:7.2f} ms\n",
        n, secs, n / secs, Percentile(ms, 0.5), Percentile(ms, 0.99));
  }

  // ---- the pipeline: submit, then wait until every one is scored and ranked
  std::vector<std::map<int, std::unique_ptr<DataConnection>>> cs(conns);
  std::vector<std::string> ids(n);
  auto t0 = Clock::now();
  auto post_ms = Parallel(n, conns, [&](int t, int k) {
    int user = k % users;
    auto& c = cs[t][user];
    if (!c) c = std::make_unique<DataConnection>(openlab::client::Credentials{url, tokens[user]});
    auto s = Clock::now();
    auto r = c->Send("POST", "/api/v1/benchmarks/" + bmk + "/submissions", files[k], "text/csv");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
    if (!r.ok() || r->status != 201) {
      Die(fmt::format("submission {}: {}", k,
                      r.ok() ? r->body.substr(0, 300) : r.status().message()));
    }
    ids[k] = Str(json::parse(r->body), "id");
    return ms;
  });
  auto t_posted = Clock::now();
  std::vector<json::object> subs;
  for (;;) {
    subs.clear();
    std::string cursor;
    for (;;) {
      auto v = Must(o, "GET",
                    "/api/v1/benchmarks/" + bmk + "/submissions?limit=500" +
                        (cursor.empty() ? "" : "&cursor=" + cursor),
                    "", 200);
      for (const auto& s : v.at("items").as_array()) subs.push_back(s.as_object());
      if (v.at("next_cursor").is_null()) break;
      cursor = std::string(v.at("next_cursor").as_string());
    }
    int waiting = 0;
    for (const auto& s : subs) {
      waiting += s.at("state").as_string() == "queued" || s.at("state").as_string() == "scoring";
    }
    if (waiting == 0) break;
    if (Seconds(t0, Clock::now()) > 1800)
      Die(fmt::format("{} still waiting after 30 min", waiting));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto board = Must(o, "GET", "/api/v1/benchmarks/" + bmk + "/leaderboard", "", 200);
  auto t_done = Clock::now();
  std::map<std::string, int> states;
  for (const auto& s : subs) states[std::string(s.at("state").as_string())]++;
  if (static_cast<int>(subs.size()) != n || states["scored"] != n) {
    Die(fmt::format("{} submissions listed, {} scored", subs.size(), states["scored"]));
  }
  if (board.at("total").as_int64() != users) {
    Die(fmt::format("the leaderboard ranks {} entrants, not {}", board.at("total").as_int64(),
                    users));
  }
  double post_secs = Seconds(t0, t_posted), all_secs = Seconds(t0, t_done);
  std::cout << fmt::format(
      "submit    {} POST .../submissions       {:6.1f} s  {:7.1f}/s  p50 {:7.2f} ms  p99 "
      "{:7.2f} ms\n",
      n, post_secs, n / post_secs, Percentile(post_ms, 0.5), Percentile(post_ms, 0.99));
  std::cout << fmt::format(
      "pipeline  first POST to the last scored and ranked: {:.1f} s ({:.1f} submissions/s; "
      "polled every 100 ms)\n",
      all_secs, n / all_secs);

  // ---- per submission, from its history (not timed)
  std::vector<double> scoring, waited;
  int64_t first_created = INT64_MAX, last_scored = 0;
  for (const auto& id : ids) {
    auto s = Must(o, "GET", "/api/v1/submissions/" + id, "", 200);
    int64_t queued = 0, started = 0, scored = 0;
    for (const auto& e : s.at("events").as_array()) {
      std::string st(e.at("state").as_string());
      int64_t at = Ms(e.at("at"));
      if (st == "queued") queued = at;
      if (st == "scoring") started = at;
      if (st == "scored") scored = at;
    }
    scoring.push_back(static_cast<double>(scored - started));
    waited.push_back(static_cast<double>(started - queued));
    first_created = std::min(first_created, queued);
    last_scored = std::max(last_scored, scored);
  }
  std::cout << fmt::format(
      "scoring   per submission (scoring -> scored)  p50 {:6.1f} ms  p99 {:6.1f} ms;  in the "
      "queue p50 {:6.0f} ms  max {:6.0f} ms\n",
      Percentile(scoring, 0.5), Percentile(scoring, 0.99), Percentile(waited, 0.5),
      Percentile(waited, 1.0));
  std::cout << fmt::format(
      "server    first submission recorded to the last scored (its own clock): {:.1f} s\n",
      (last_scored - first_created) / 1000.0);
  return 0;
}
