// Every list and operator view is served by an index. The test seeds a store through the API,
// then calls every GET route of the route table (as the operator, a project's PI, an outsider
// and anonymously; with each documented query parameter; the first page and, for paged lists, a
// page after a cursor), recording each statement the store runs for it. Each recorded statement
// is then planned with its own parameters, EXPLAIN QUERY PLAN on SQLite and EXPLAIN on
// PostgreSQL (with sequential scans and sorts turned off in that transaction, so that a small
// table still shows whether an index could serve the query), and the test fails, naming the
// route and the statement, on:
//   - a full scan of a table that grows (SQLite `SCAN t`, PostgreSQL `Seq Scan on t`);
//   - a sort of an unbounded set (SQLite `USE TEMP B-TREE FOR ORDER BY`, PostgreSQL a `Sort`
//     of what a scan reads);
//   - a page of a filtered list read along the paging cursor alone (SQLite `SEARCH t USING ...
//     (id>?)`, PostgreSQL an index scan whose only condition is `id > ...` with a `Filter`):
//     it reads every row after the cursor to find a page of those that match.
// A new route, or a new query of an existing route, is covered without editing this test; a
// new path or query parameter needs a value in PathValue or QueryValue below (the test says so).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "http/router.h"
#include "testing/harness.h"
#include "testing/recording_db.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::Statement;

// Tables that never grow with the centre: a full scan of one is as cheap as an index.
const std::set<std::string> kFixedTables = {
    "schema_migrations",  // one row per migration step
    "data_domains",       // one row per access domain (open, and one per restricted owner)
};

// Statements not yet served by an index, each with why (a fragment of its SQL -> the reason).
// Every entry is work left to do: remove it when its statement is served.
const std::map<std::string, std::string> kNotYetServed = {
    {"FROM audit WHERE id > $1 AND at ",
     "the audit trail by time alone is read along the id: the id is time-ordered, the recorded "
     "time is the request's, so neither orders the other exactly"},
    {"(',' || tags || ',') LIKE",
     "the staff's whole catalogue by tag is read along the id (a user's is read along listing, "
     "level and memberships): a dataset's tags are one comma-separated column; needs a table of "
     "dataset tags"},
    {"datasets_fts MATCH", "the staff's full-text matches are sorted by id"},
    {"to_tsquery('simple'", "the staff's full-text matches are sorted by id"},
};

std::string ValueText(const store::Value& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) return "NULL";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "'" + std::get<std::string>(v) + "'";
}

std::string Describe(const Statement& s) {
  std::string out = s.sql + "  [";
  for (size_t i = 0; i < s.params.size(); ++i) {
    out += (i ? ", " : "") + ValueText(s.params[i]);
  }
  return out + "]";
}

// The problems in one SQLite plan (the detail column of EXPLAIN QUERY PLAN) of `sql`. SQLite's
// plan does not show the conditions checked on each row read, so a search along the cursor
// alone is a problem only when the statement has conditions besides the cursor's.
std::vector<std::string> SqliteProblems(const std::string& sql,
                                        const std::vector<std::string>& plan) {
  static const std::regex unfiltered(R"(WHERE (\w+\.)?id > \$\d+ ORDER BY)");
  bool filtered = !std::regex_search(sql, unfiltered);
  static const std::regex scan(R"(^SCAN (\w+)( AS \w+)?( USING (COVERING )?INDEX \w+)?$)");
  static const std::regex cursor_only(R"(^SEARCH (\w+)( AS \w+)? USING .*\((id|rowid)>\?\)$)");
  std::vector<std::string> out;
  // A subquery's rows (CO-ROUTINE x, then SCAN x) are what it read, not a table: its own plan
  // lines say how it read them.
  std::set<std::string> subqueries;
  for (const std::string& line : plan) {
    if (line.rfind("CO-ROUTINE ", 0) == 0) subqueries.insert(line.substr(11));
  }
  for (const std::string& line : plan) {
    std::smatch m;
    if (std::regex_match(line, m, scan) && !kFixedTables.count(m[1].str()) &&
        !subqueries.count(m[1].str())) {
      out.push_back("full scan: " + line);
    } else if (line.find("USE TEMP B-TREE FOR ORDER BY") != std::string::npos ||
               line.find("USE TEMP B-TREE FOR RIGHT PART OF ORDER BY") != std::string::npos) {
      out.push_back("sort: " + line);
    } else if (filtered && std::regex_match(line, m, cursor_only) &&
               !kFixedTables.count(m[1].str())) {
      out.push_back("read along the cursor only: " + line);
    }
  }
  return out;
}

// The problems in one PostgreSQL plan (EXPLAIN's text, one line per row).
std::vector<std::string> PostgresProblems(const std::vector<std::string>& plan) {
  static const std::regex seq(R"(Seq Scan on (\w+))");
  static const std::regex index_scan(R"((Index|Index Only) Scan (Backward )?using \w+ on (\w+))");
  static const std::regex cursor_cond(R"(Index Cond: \(\w+\.?id > .*\)$|Index Cond: \(id > .*\)$)");
  std::vector<std::string> out;
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string& line = plan[i];
    std::smatch m;
    if (std::regex_search(line, m, seq) && !kFixedTables.count(m[1].str())) {
      out.push_back("full scan: " + line);
    } else if (line.find("Sort  (") != std::string::npos &&
               line.find("Incremental Sort") == std::string::npos) {
      // A sort of what a scan reads (its first input); a sort of an aggregate's groups is not
      // of the table's rows.
      for (size_t j = i + 1; j < plan.size(); ++j) {
        if (plan[j].find("->") == std::string::npos) continue;
        if (plan[j].find("Scan") != std::string::npos) out.push_back("sort: " + line);
        break;
      }
    } else if (std::regex_search(line, m, index_scan) && !kFixedTables.count(m[3].str())) {
      // The node's own lines follow, indented deeper than the node.
      size_t indent = line.find_first_not_of(' ');
      bool only_cursor = false, filtered = false;
      for (size_t j = i + 1; j < plan.size(); ++j) {
        size_t in = plan[j].find_first_not_of(' ');
        if (in <= indent || plan[j].find("->") != std::string::npos) break;
        if (std::regex_search(plan[j], cursor_cond) && plan[j].find(" AND ") == std::string::npos) {
          only_cursor = true;
        }
        if (plan[j].find("Filter: ") != std::string::npos) filtered = true;
      }
      if (only_cursor && filtered) out.push_back("read along the cursor only: " + line);
    }
  }
  return out;
}

class ExplainTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  ExplainTest() : h_(GetParam(), {.record = true}) {}

  std::string Op() { return h_.operator_token(); }

  testing::Reply Must(const std::string& method, const std::string& target,
                      const std::string& token, const std::string& body, int want) {
    testing::Reply r = h_.Call(method, target, token, body);
    EXPECT_EQ(r.status, want) << method << " " << target << ": " << r.body;
    return r;
  }

  // Pushes one small file as a new version of `ds`, the way the CLI does.
  void Push(const std::string& token, const std::string& ds, const std::string& path,
            const std::string& content) {
    testing::Reply r = h_.Push(token, ds, {{path, content}});
    EXPECT_EQ(r.status, 201) << r.body;
  }

  // A small centre: two organisations, projects with members, grants, jobs in several states,
  // reservations, tokens, datasets with versions, an open upload, access requests, a
  // contribution and a flag; the audit trail fills itself.
  void Seed() {
    for (int o = 0; o < 2; ++o) {
      orgs_.push_back(
          Must("POST", "/api/v1/orgs", Op(),
               fmt::format(R"({{"name":"org{}","kind":"university","region":"KR"}})", o), 201)
              .Str("id"));
    }
    pi_ = h_.MakeUser("pi", {}, {"*"}, &pi_id_);
    member_ = h_.MakeUser("member", {}, {"*"}, &member_id_);
    outsider_ = h_.MakeUser("outsider");
    Must("PUT", "/api/v1/orgs/" + orgs_[0] + "/members/pi", Op(), R"({"role":"member"})", 200);
    Must("PUT", "/api/v1/orgs/" + orgs_[1] + "/members/outsider", Op(), R"({"role":"member"})",
         200);
    for (int p = 0; p < 3; ++p) {
      std::string prj = Must("POST", "/api/v1/projects", pi_,
                             fmt::format(R"({{"org_id":"{}","name":"prj{}"}})", orgs_[0], p), 201)
                            .Str("id");
      projects_.push_back(prj);
      Must("PUT", "/api/v1/projects/" + prj + "/members/member", pi_, R"({"role":"member"})", 200);
      allocation_ =
          Must("POST", "/api/v1/projects/" + prj + "/allocations", Op(),
               R"({"resource":"cpu","hours":1000,"expires_at":"2099-01-01T00:00:00Z"})", 201)
              .Str("id");
      Must("POST", "/api/v1/projects/" + prj + "/allocations", Op(),
           R"({"resource":"gpu:H100","hours":100,"expires_at":"2099-01-01T00:00:00Z"})", 201);
      for (int j = 0; j < 4; ++j) {
        job_ = Must("POST", "/api/v1/jobs", j % 2 ? member_ : pi_,
                    fmt::format(R"({{"project_id":"{}","name":"j{}","command":["true"]}})", prj, j),
                    201)
                   .Str("id");
      }
      Must("POST", "/api/v1/jobs/" + job_ + "/cancel", pi_, "{}", 202);
      Must("POST", "/api/v1/reservations", Op(),
           fmt::format(R"({{"project_id":"{}","gpus":2,"gpu_type":"H100",)"
                       R"("starts_at":"2099-01-01T00:00:00Z","ends_at":"2099-01-02T00:00:00Z"}})",
                       prj),
           201);
    }
    for (int t = 0; t < 3; ++t) {
      token_ = Must("POST", "/api/v1/tokens", pi_,
                    fmt::format(R"({{"name":"t{}","scopes":["*"]}})", t), 201)
                   .Str("id");
    }
    for (int d = 0; d < 3; ++d) {
      std::string level = d == 0 ? "open" : "project";
      dataset_ = Must("POST", "/api/v1/datasets", pi_,
                      fmt::format(R"({{"project_id":"{}","name":"traffic{}","license":"CC-BY-4.0",)"
                                  R"("access_level":"{}","tags":["mobility"],"listed":true,)"
                                  R"("accepts_contributions":true}})",
                                  projects_[0], d, level),
                      201)
                     .Str("id");
      Push(member_, dataset_, "a.csv", fmt::format("t,db\n{},40\n", d));
      Push(member_, dataset_, "a.csv", fmt::format("t,db\n{},41\n", d));
      request_ = Must("POST", "/api/v1/datasets/" + dataset_ + "/access-requests", outsider_,
                      R"({"purpose":"validate a model","days":30})", 201)
                     .Str("id");
    }
    upload_ =
        Must("POST", "/api/v1/datasets/" + dataset_ + "/uploads", member_, "{}", 201).Str("id");
    // Validation: a public benchmark over a hidden truth, two submissions scored, a team.
    std::string truth =
        Must("POST", "/api/v1/datasets", pi_,
             fmt::format(R"({{"project_id":"{}","name":"truth","license":"CC-BY-4.0",)"
                         R"("access_level":"hidden"}})",
                         projects_[0]),
             201)
            .Str("id");
    Push(pi_, truth, "truth.csv", "id,value\nr1,1\nr2,2\nr3,3\n");
    benchmark_ =
        Must("POST", "/api/v1/benchmarks", pi_,
             fmt::format(
                 R"({{"project_id":"{}","name":"meters","title":"T","task_type":"regression",)"
                 R"("visibility":"public","metrics":["mae","rmse"],"public_fraction":1,)"
                 R"("phases":[{{"name":"dev","starts_at":"2020-01-01T00:00:00Z",)"
                 R"("ends_at":"2099-01-01T00:00:00Z","truth_dataset":"{}"}}]}})",
                 projects_[0], truth),
             201)
            .Str("id");
    for (const std::string& who : {pi_, member_}) {
      submission_ = h_.Call("POST", "/api/v1/benchmarks/" + benchmark_ + "/submissions", who,
                            "id,value\nr1,1\nr2,2\nr3,4\n", {{"content-type", "text/csv"}})
                        .Str("id");
    }
    EXPECT_TRUE(h_.scoring().Drain().ok());
    report_ =
        Must("POST", "/api/v1/submissions/" + submission_ + "/reports", member_, "", 201).Str("id");
    team_ = Must("POST", "/api/v1/benchmarks/" + benchmark_ + "/teams", outsider_,
                 R"({"name":"volts"})", 201)
                .Str("id");
  }

  // The value of a path parameter, from the segment before it; nullopt if none was seeded.
  std::optional<std::string> PathValue(const std::string& before, const std::string& name) {
    if (name == "version") return "latest";
    if (before == "orgs") return orgs_[0];
    if (before == "projects") return projects_[0];
    if (before == "users") return pi_id_;
    if (before == "jobs") return job_;
    if (before == "allocations") return allocation_;
    if (before == "tokens") return token_;
    if (before == "datasets") return dataset_;
    if (before == "uploads") return upload_;
    if (before == "access-requests") return request_;
    if (before == "benchmarks") return benchmark_;
    if (before == "submissions") return submission_;
    if (before == "teams") return team_;
    if (before == "reports") return report_;
    return std::nullopt;  // exports, contributions: none seeded; their point reads are skipped
  }

  // A value for a documented query parameter; nullopt if the test does not know it.
  std::optional<std::string> QueryValue(const std::string& name) {
    static const std::map<std::string, std::string> fixed = {{"state", "queued"},
                                                             {"action", "jobs.submit"},
                                                             {"since", "2020-01-01T00:00:00Z"},
                                                             {"until", "2099-01-01T00:00:00Z"},
                                                             {"q", "traffic"},
                                                             {"tag", "mobility"},
                                                             {"group_by", "project"},
                                                             {"format", "jsonl"},
                                                             {"files", "true"},
                                                             {"path", "a.csv"},
                                                             {"version", "latest"},
                                                             {"from", "latest"},
                                                             {"to", "latest"},
                                                             {"all", "true"},
                                                             {"stream", "stdout"},
                                                             {"offset", "0"},
                                                             {"limit", "100"},
                                                             {"wait", "0"},
                                                             {"order", "newest"},
                                                             {"access_level", "open"},
                                                             {"license", "CC-BY-4.0"},
                                                             {"phase", "dev"},
                                                             {"mine", "true"},
                                                             {"split", "public"},
                                                             {"metric", "rmse"},
                                                             {"kind", "predictions"}};
    if (auto it = fixed.find(name); it != fixed.end()) return it->second;
    if (name == "project_id") return projects_[0];
    if (name == "org_id") return orgs_[0];
    if (name == "actor") return pi_id_;
    if (name == "object") return projects_[0];
    if (name == "user_id") return member_id_;
    return std::nullopt;
  }

  // The path of `pattern` with seeded ids; nullopt (and `missing` set) if one has none.
  std::optional<std::string> FillPath(const std::string& pattern, std::string* missing) {
    std::string out, before;
    size_t pos = 0;
    while (pos < pattern.size()) {
      size_t slash = pattern.find('/', pos + 1);
      std::string seg =
          pattern.substr(pos + 1, slash == std::string::npos ? std::string::npos : slash - pos - 1);
      if (!seg.empty() && seg.front() == '{') {
        std::string name = seg.substr(1, seg.size() - 2);
        auto v = PathValue(before, name);
        if (!v) {
          *missing = name + " after " + before;
          return std::nullopt;
        }
        seg = *v;
      }
      out += "/" + seg;
      before = seg;
      if (slash == std::string::npos) break;
      pos = slash;
    }
    return out;
  }

  std::vector<std::string> Plan(store::Tx& tx, const Statement& s) {
    std::vector<std::string> lines;
    bool sqlite = tx.dialect() == store::Dialect::kSqlite;
    auto rows = tx.Query((sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + s.sql, s.params);
    EXPECT_TRUE(rows.ok()) << Describe(s) << ": " << rows.status().ToString();
    if (!rows.ok()) return lines;
    for (const auto& r : *rows) lines.push_back(r.Str(sqlite ? 3 : 0));
    return lines;
  }

  testing::ApiHarness h_;
  std::vector<std::string> orgs_, projects_;
  std::string pi_, member_, outsider_, pi_id_, member_id_;
  std::string allocation_, job_, token_, dataset_, upload_, request_;
  std::string benchmark_, submission_, team_, report_;
};

TEST_P(ExplainTest, EveryListAndViewIsServedByAnIndex) {
  Seed();
  testing::RecordingDatabase& rec = *h_.recorder();
  // Each statement a route ran, once per SQL text and parameters, with the calls that ran it.
  std::map<std::string, std::pair<Statement, std::string>> statements;
  size_t routes = 0, pages = 0;
  auto call = [&](const std::string& target, const std::string& token) {
    rec.Record();
    testing::Reply r = h_.Call("GET", target, token);
    for (Statement& s : rec.Take()) {
      std::string key = Describe(s);
      statements.emplace(key, std::make_pair(std::move(s), "GET " + target));
    }
    return r;
  };
  // The member made the submission with a report: a list of its owner's alone (reports.list)
  // answers them and no other caller.
  const std::vector<std::string> callers = {Op(), pi_, outsider_, "", member_};
  for (const http::Route& route : h_.api().router().routes()) {
    if (route.method != "GET") continue;
    std::string missing;
    auto path = FillPath(route.pattern, &missing);
    if (!path) {
      // A paged list must be exercised; a point read of an object not seeded here is not a list.
      EXPECT_FALSE(route.paginated) << route.pattern << ": no seeded value for " << missing;
      continue;
    }
    ++routes;
    std::vector<std::string> targets = {*path};
    for (const std::string& q : route.query) {
      auto v = QueryValue(q);
      if (!v) {
        ADD_FAILURE() << route.pattern << ": no value for its query parameter '" << q
                      << "': add one to QueryValue";
        continue;
      }
      targets.push_back(*path + "?" + q + "=" + *v);
    }
    for (const std::string& target : targets) {
      for (const std::string& token : callers) {
        testing::Reply first = call(target, token);
        // The operator reads every list but those of their owner alone.
        const auth::Rule* rule = auth::FindRule(route.action);
        bool owner_only = rule != nullptr && rule->who == auth::kSelf;
        if (token == (owner_only ? member_ : Op()) && route.paginated) {
          EXPECT_EQ(first.status, 200) << "GET " << target << ": " << first.body;
        }
        if (!route.paginated || first.status != 200) continue;
        // A deep page: the page after the first item.
        std::string sep = target.find('?') == std::string::npos ? "?" : "&";
        testing::Reply one = call(target + sep + "limit=1", token);
        if (!one.json.is_object()) continue;
        const auto* next = one.json.as_object().if_contains("next_cursor");
        if (next == nullptr || !next->is_string()) continue;
        call(target + sep + "limit=1&cursor=" + std::string(next->as_string()), token);
        ++pages;
      }
    }
  }
  EXPECT_GT(routes, 20u);
  EXPECT_GT(pages, 10u) << "the seeded store should give deep pages of most lists";

  size_t planned = 0;
  std::set<std::string> reported;
  ASSERT_TRUE(h_.db()
                  .Read([&](store::Tx& tx) -> Status {
                    bool sqlite = tx.dialect() == store::Dialect::kSqlite;
                    if (!sqlite) {
                      RETURN_IF_ERROR(tx.Exec("SET LOCAL enable_seqscan = off").status());
                      RETURN_IF_ERROR(tx.Exec("SET LOCAL enable_sort = off").status());
                    }
                    for (const auto& [key, entry] : statements) {
                      const auto& [s, where] = entry;
                      std::string sql = s.sql.substr(s.sql.find_first_not_of(" \n"));
                      if (sql.rfind("SELECT", 0) != 0 && sql.rfind("WITH", 0) != 0) continue;
                      std::vector<std::string> plan = Plan(tx, s);
                      ++planned;
                      auto problems = sqlite ? SqliteProblems(sql, plan) : PostgresProblems(plan);
                      // One report per statement, with the first call that ran it.
                      if (problems.empty() || !reported.insert(s.sql).second) continue;
                      bool known = false;
                      for (const auto& [fragment, why] : kNotYetServed) {
                        known = known || s.sql.find(fragment) != std::string::npos;
                      }
                      if (known) continue;
                      std::string text;
                      for (const auto& l : plan) text += "\n    " + l;
                      std::string found;
                      for (const auto& p : problems) found += "\n  " + p;
                      ADD_FAILURE() << where << " runs\n  " << key << found << "\n  plan:" << text;
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_GT(planned, 30u);
}

INSTANTIATE_TEST_SUITE_P(Stores, ExplainTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace openlab
