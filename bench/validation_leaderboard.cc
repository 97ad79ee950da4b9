// The leaderboard of a benchmark with 100,000 scored submissions (bench/validation_leaderboard.sh
// runs it against a real `openlab serve`): how long GET /api/v1/benchmarks/{id}/leaderboard
// takes, first page, a deep page, ranked by another metric (first and last page, and on the
// private split) and exported as CSV, beside the same run's GET /healthz.
//
// Three steps, the server stopped between the second and the third:
//   setup    through the API: an organisation, its organiser and project, a hidden ground truth
//            (pushed as the command line does) and a regression benchmark (MAE primary, RMSE,
//            R2); prints {"benchmark":..., "token":...} on one line.
//   seed     straight into the server's store (the server stopped), through the validation use
//            cases the server itself runs: --entrants users, and --submissions submissions among
//            them, each created, leased and finished with scores as the scorer would
//            (validation.h: CreateSubmission, ClaimSubmission, FinishScoring), so the leaderboard
//            table is kept by the same code as in production.
//   measure  against the restarted server: --requests timed requests per case over one
//            keep-alive connection, p50 and p99 in ms.
//
// Usage: validation_leaderboard setup   --url URL --token OPERATOR_TOKEN
//        validation_leaderboard seed    --db STORE_URL --benchmark ID [--submissions N]
//                                       [--entrants N]
//        validation_leaderboard measure --url URL --token TOKEN --benchmark ID [--requests N]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/data_connection.h"
#include "client/push.h"
#include "common/clock.h"
#include "common/ids.h"
#include "store/db.h"
#include "tenants/tenants.h"
#include "validation/validation.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using openlab::client::Credentials;
using openlab::client::DataConnection;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& m) {
  std::cerr << "validation_leaderboard: " << m << "\n";
  std::exit(1);
}

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) Die("flags are --name value: " + k);
    f[k.substr(2)] = argv[i + 1];
  }
  return f;
}

std::string Need(const std::map<std::string, std::string>& f, const std::string& k) {
  auto it = f.find(k);
  if (it == f.end()) Die("--" + k + " is required");
  return it->second;
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

int Setup(const std::map<std::string, std::string>& f) {
  std::string url = Need(f, "url");
  DataConnection op({url, Need(f, "token")});
  auto org = Must(op, "POST", "/api/v1/orgs",
                  R"({"name":"board","kind":"university","region":"KR-29"})", 201);
  const std::string pw = "a long enough password";
  Must(op, "POST", "/api/v1/users",
       fmt::format(R"({{"username":"organiser","email":"o@board.kr","password":"{}"}})", pw), 201);
  Must(op, "PUT", "/api/v1/orgs/" + Str(org, "id") + "/members/organiser", R"({"role":"member"})",
       0);
  DataConnection anon({url, ""});
  auto login = anon.Send("POST", "/api/v1/login",
                         fmt::format(R"({{"username":"organiser","password":"{}"}})", pw),
                         "application/json");
  if (!login.ok() || login->status != 200) Die("login of the organiser failed");
  std::string cookie = login->headers["set-cookie"];
  cookie = cookie.substr(0, cookie.find(';'));
  std::string csrf = Str(json::parse(login->body), "csrf_token");
  auto tok =
      Must(anon, "POST", "/api/v1/tokens", R"({"name":"bench","scopes":["*"],"expires_in_days":7})",
           201, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  std::string token = Str(tok, "secret");
  DataConnection o({url, token});
  auto prj = Must(o, "POST", "/api/v1/projects",
                  fmt::format(R"({{"org_id":"{}","name":"board"}})", Str(org, "id")), 201);
  auto ds = Must(o, "POST", "/api/v1/datasets",
                 fmt::format(R"({{"project_id":"{}","name":"board-truth","license":"CC-BY-4.0",)"
                             R"("access_level":"hidden"}})",
                             Str(prj, "id")),
                 201);
  std::string dir = fs::temp_directory_path() / ("openlab-board-truth-" + std::to_string(getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir + "/truth.csv");
    out << "id,value\n";
    for (int i = 0; i < 1000; ++i) out << "r" << i << "," << (i % 97) << "\n";
  }
  openlab::client::PushOptions po;
  po.dir = dir;
  po.dataset = Str(ds, "id");
  po.tag = "v1";
  auto pushed = openlab::client::Push({url, token}, po);
  fs::remove_all(dir);
  if (!pushed.ok()) Die("push of the truth: " + pushed.status().ToString());
  int64_t now = openlab::Clock::Real()->NowMs();
  auto b = Must(o, "POST", "/api/v1/benchmarks",
                fmt::format(R"({{"project_id":"{}","name":"board","title":"A crowded leaderboard",)"
                            R"("task_type":"regression","visibility":"registered",)"
                            R"("metrics":[{{"name":"mae","primary":true}},"rmse","r2"],)"
                            R"("rules":{{"max_per_day":1000,"max_total":1000}},)"
                            R"("phases":[{{"name":"final","starts_at":"{}","ends_at":"{}",)"
                            R"("truth_dataset":"{}","truth_version":"v1"}}]}})",
                            Str(prj, "id"), openlab::FormatTime(now - 3600'000),
                            openlab::FormatTime(now + 30 * 86400'000LL), Str(ds, "id")),
                201);
  std::cout << json::serialize(json::object{{"benchmark", Str(b, "id")}, {"token", token}}) << "\n";
  return 0;
}

int Seed(const std::map<std::string, std::string>& f) {
  namespace v = openlab::validation;
  std::string bmk = Need(f, "benchmark");
  int submissions = std::stoi(f.count("submissions") ? f.at("submissions") : "100000");
  int entrants = std::stoi(f.count("entrants") ? f.at("entrants") : "20000");
  auto db = openlab::store::OpenDatabase(Need(f, "db"));
  if (!db.ok()) Die(db.status().ToString());
  auto t0 = Clock::now();
  std::vector<std::string> users(entrants);
  const int kBatch = 1000;
  for (int start = 0; start < entrants; start += kBatch) {
    auto s = (*db)->Write([&](openlab::store::Tx& tx) -> openlab::Status {
      int64_t now = openlab::Clock::Real()->NowMs();
      for (int i = start; i < std::min(entrants, start + kBatch); ++i) {
        openlab::tenants::NewUser u;
        u.username = fmt::format("entrant{:05}", i);
        u.email = u.username + "@board.kr";
        u.display_name = fmt::format("Entrant {}", i);
        ASSIGN_OR_RETURN(auto made, openlab::tenants::CreateUser(tx, u, now));
        users[i] = made.id;
      }
      return openlab::Status::Ok();
    });
    if (!s.ok()) Die("users: " + s.ToString());
  }
  auto t1 = Clock::now();
  std::string truth_version;
  {
    auto s = (*db)->Read([&](openlab::store::Tx& tx) -> openlab::Status {
      ASSIGN_OR_RETURN(auto b, v::GetBenchmark(tx, bmk));
      truth_version = b.phases.at(0).truth_version_id;
      return openlab::Status::Ok();
    });
    if (!s.ok()) Die("benchmark: " + s.ToString());
  }
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  v::LeaseOptions lease;
  for (int start = 0; start < submissions; start += kBatch) {
    auto s = (*db)->Write([&](openlab::store::Tx& tx) -> openlab::Status {
      int64_t now = openlab::Clock::Real()->NowMs();
      for (int i = start; i < std::min(submissions, start + kBatch); ++i) {
        v::NewSubmission n;
        n.benchmark_id = bmk;
        n.user_id = users[i % entrants];
        n.format = "csv";
        n.sha256 = std::string(64, 'a');
        n.size = 15000;
        n.rows = 1000;
        ASSIGN_OR_RETURN(auto sub, v::CreateSubmission(tx, openlab::NewId("sub"), n, now));
        ASSIGN_OR_RETURN(auto claimed, v::ClaimSubmission(tx, "seed", lease, now));
        if (!claimed || claimed->id != sub.id) return openlab::Internal("claimed another one");
        // Scores with ties (MAE on a 0.001 grid), so ranks are shared as in a real contest.
        auto scores = [&] {
          double mae = std::round((0.5 + 20 * u(rng)) * 1000) / 1000;
          return v::Scores{{"mae", mae},
                           {"rmse", mae * (1.2 + 0.3 * u(rng))},
                           {"r2", 1 - mae / 25 - 0.05 * u(rng)}};
        };
        v::Scores pub = scores(), priv = scores();
        RETURN_IF_ERROR(
            v::FinishScoring(tx, sub.id, "seed", truth_version, pub, priv, now).status());
      }
      return openlab::Status::Ok();
    });
    if (!s.ok()) Die("submissions: " + s.ToString());
    if ((start / kBatch) % 10 == 9) std::cerr << "seeded " << start + kBatch << "\n";
  }
  auto t2 = Clock::now();
  std::cout << fmt::format(
      "seeded {} users in {:.1f} s and {} scored submissions in {:.1f} s ({:.0f}/s)\n", entrants,
      std::chrono::duration<double>(t1 - t0).count(), submissions,
      std::chrono::duration<double>(t2 - t1).count(),
      submissions / std::chrono::duration<double>(t2 - t1).count());
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

int Measure(const std::map<std::string, std::string>& f) {
  std::string url = Need(f, "url");
  std::string bmk = Need(f, "benchmark");
  int requests = std::stoi(f.count("requests") ? f.at("requests") : "200");
  DataConnection c({url, Need(f, "token")});
  std::string board = "/api/v1/benchmarks/" + bmk + "/leaderboard";
  auto first = Must(c, "GET", board, "", 200);
  int64_t total = first.at("total").as_int64();
  struct Case {
    std::string name, path;
    int requests;
  };
  std::vector<Case> cases = {
      {"GET /healthz (baseline)", "/healthz", requests},
      {"leaderboard, first page (100)", board, requests},
      {fmt::format("leaderboard, offset {}", total / 2),
       fmt::format("{}?offset={}", board, total / 2), requests},
      {"leaderboard, last page",
       fmt::format("{}?offset={}", board, std::max<int64_t>(0, total - 100)), requests},
      {"leaderboard ?metric=rmse (another metric)", board + "?metric=rmse", requests},
      {"leaderboard ?metric=rmse, last page",
       fmt::format("{}?metric=rmse&offset={}", board, std::max<int64_t>(0, total - 100)), requests},
      {"leaderboard ?metric=r2&split=private", board + "?metric=r2&split=private", requests},
      {"leaderboard ?format=csv (every entrant)", board + "?format=csv",
       std::max(20, requests / 10)},
  };
  std::cout << fmt::format("leaderboard of {} entrants; {}\n", total, url);
  for (const auto& k : cases) {
    for (int i = 0; i < 3; ++i) Must(c, "GET", k.path, "", 200);  // warm
    std::vector<double> ms;
    size_t bytes = 0;
    for (int i = 0; i < k.requests; ++i) {
      auto t = Clock::now();
      auto r = c.Send("GET", k.path, "", "");
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      if (!r.ok() || r->status != 200) Die("GET " + k.path + " failed");
      bytes = r->body.size();
    }
    std::cout << fmt::format("{:<42} n {:>4}  p50 {:8.2f} ms  p99 {:8.2f} ms  body {:>9} B\n",
                             k.name, k.requests, Percentile(ms, 0.5), Percentile(ms, 0.99), bytes)
              << std::flush;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: validation_leaderboard setup|seed|measure --flag value ...");
  std::string cmd = argv[1];
  auto f = Flags(argc, argv);
  if (cmd == "setup") return Setup(f);
  if (cmd == "seed") return Seed(f);
  if (cmd == "measure") return Measure(f);
  Die("unknown step " + cmd);
}
