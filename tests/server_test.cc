// End-to-end tests against the real binary: `openlab serve` as a child process, spoken to over
// loopback TCP. Request limits, graceful shutdown, SIGKILL durability, bootstrap, the CLI, and
// the server on PostgreSQL.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "client/client.h"
#include "common/ids.h"
#include "compute/ledger/ledger.h"
#include "data/chunks/file_chunker.h"
#include "data/chunks/wire.h"
#include "server_process.h"
#include "store/db.h"
#include "store/migrations.h"

namespace openlab {
namespace {

namespace json = boost::json;
using testing::Bin;
using testing::ReadFile;
using testing::ServerProcess;
using testing::TempDir;
using testing::Trim;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Sends raw bytes and returns everything the server answers until it closes (or 5 s pass).
std::string RawExchange(int port, const std::string& bytes, bool half_close = true) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::system::error_code wec;
  asio::write(s, asio::buffer(bytes), wec);  // the server may answer and close before the end
  if (half_close) s.shutdown(asio::ip::tcp::socket::shutdown_send, wec);
  std::string out;
  std::array<char, 4096> buf;
  timeval tv{5, 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  for (;;) {
    boost::system::error_code ec;
    size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf.data(), n);
    if (ec) break;
  }
  return out;
}

int StatusOf(const std::string& raw) {
  if (raw.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(raw.substr(9, 3));
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = TempDir();
    server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
    ASSERT_GT(server_->port(), 0) << server_->log();
    token_ = Trim(ReadFile(state_ + "/bootstrap-token"));
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(state_, ec);
  }
  client::Client Client(std::string token = "") {
    return client::Client({server_->url(), token.empty() ? token_ : token});
  }

  std::string state_, state2_, token_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerTest, FirstStartWritesAPrivateOperatorToken) {
  struct stat st {};
  ASSERT_EQ(stat((state_ + "/bootstrap-token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(token_.rfind("olt_", 0), 0u);
  EXPECT_NE(server_->log().find("bootstrap-token"), std::string::npos);  // logs where it is
  auto me = Client().Call("GET", "/api/v1/me");
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->status, 200);
  EXPECT_NE(me->body.find("\"operator\""), std::string::npos);
  // A restart keeps the account and writes no new token.
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(), 0);
  fs::remove(state_ + "/bootstrap-token");
  server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
  EXPECT_FALSE(fs::exists(state_ + "/bootstrap-token"));
  EXPECT_EQ(Client().Call("GET", "/api/v1/me")->status, 200);
}

// The password options reach the server: its start line says them, and past
// --login-failures-per-account a login over TCP answers 429 with Retry-After (within the
// --login-window-minutes window), the right password too.
TEST(ServeOptions, PasswordOptionsReachTheServer) {
  std::string state = TempDir();
  auto server = std::make_unique<ServerProcess>(
      state,
      std::vector<std::string>{"--quiet", "--hash-threads", "1", "--hash-queue", "3",
                               "--login-failures-per-account", "2", "--login-window-minutes", "5"});
  ASSERT_GT(server->port(), 0) << server->log();
  EXPECT_NE(server->log().find(R"("hash_threads":1)"), std::string::npos) << server->log();
  EXPECT_NE(server->log().find(R"("hash_queue":3)"), std::string::npos);
  client::Client op({server->url(), Trim(ReadFile(state + "/bootstrap-token"))});
  auto made = op.Call("POST", "/api/v1/users",
                      R"({"username":"carol","email":"c@x.kr","password":"a long passphrase"})");
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->status, 201) << made->body;
  client::Client anonymous({server->url(), ""});
  auto login = [&](const std::string& password) {
    return anonymous.Call("POST", "/api/v1/login",
                          R"({"username":"carol","password":")" + password + R"("})");
  };
  EXPECT_EQ(login("wrong guess one")->status, 401);
  EXPECT_EQ(login("wrong guess two")->status, 401);
  auto limited = login("a long passphrase");
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->status, 429) << limited->body;
  int retry_after = std::stoi(limited->headers["retry-after"]);
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 300);  // the window given, not the default 15 minutes
  server.reset();
  std::error_code ec;
  fs::remove_all(state, ec);
}

TEST_F(ServerTest, EnforcesRequestLimits) {
  // Body over the limit (1 MiB by default): 413, announced by Content-Length.
  std::string big = fmt::format(
      "POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n",
      (2 << 20));
  std::string r = RawExchange(server_->port(), big);
  EXPECT_EQ(StatusOf(r), 413) << r.substr(0, 200);
  EXPECT_NE(r.find("payload-too-large"), std::string::npos);
  // Headers over the limit: 431.
  std::string huge_header =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusOf(RawExchange(server_->port(), huge_header)), 431);
  // Garbage: 400 problem+json.
  std::string g = RawExchange(server_->port(), "HELLO THERE\r\n\r\n");
  EXPECT_EQ(StatusOf(g), 400) << g;
  EXPECT_NE(g.find("application/problem+json"), std::string::npos);
  // Keep-alive: two requests on one connection.
  std::string two = RawExchange(server_->port(),
                                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = two.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(two.find("HTTP/1.1 200", first + 1), std::string::npos);
}

TEST_F(ServerTest, IdleConnectionsTimeOut) {
  state2_ = TempDir();
  ServerProcess s(state2_, {"--quiet", "--read-timeout", "1", "--idle-timeout", "1"});
  auto start = std::chrono::steady_clock::now();
  // A client that sends half a request and then nothing is cut off, not waited on forever.
  std::string r = RawExchange(s.port(), "GET /healthz HTTP/1.1\r\nHost:", false);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 4s);
  EXPECT_EQ(r.find("HTTP/1.1 200"), std::string::npos);
  fs::remove_all(state2_);
}

TEST_F(ServerTest, RefusesConnectionsOverTheLimit) {
  state2_ = TempDir();
  ServerProcess s(state2_, {"--quiet", "--max-connections", "2"});
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket a(ioc), b(ioc);
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"),
                             static_cast<unsigned short>(s.port()));
  a.connect(ep);
  b.connect(ep);
  std::this_thread::sleep_for(200ms);  // both are accepted and held open, idle
  std::string third = RawExchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(third), 503) << third;
  EXPECT_NE(third.find("too-many-connections"), std::string::npos);
  a.close();
  b.close();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(StatusOf(RawExchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
  fs::remove_all(state2_);
}

// A busy centre samples its request log: of the requests that succeed one in N is logged, every
// failure is; --request-log errors keeps the failures only.
TEST_F(ServerTest, RequestLogIsSampledAndLevelled) {
  auto count = [](const std::string& log, const std::string& status) {
    size_t n = 0;
    std::istringstream in(log);
    for (std::string l; std::getline(in, l);) {
      if (l.find("\"msg\":\"request\"") != std::string::npos &&
          l.find("\"status\":" + status) != std::string::npos) {
        ++n;
      }
    }
    return n;
  };
  for (const auto& [flags, ok_lines, failed_lines] :
       std::vector<std::tuple<std::vector<std::string>, size_t, size_t>>{
           {{"--request-log-sample", "10"}, 3, 4},
           {{"--request-log", "errors"}, 0, 4},
           {{"--request-log", "all"}, 30, 4}}) {
    server_.reset();
    server_ = std::make_unique<ServerProcess>(state_, flags);
    ASSERT_GT(server_->port(), 0) << server_->log();
    for (int i = 0; i < 30; ++i) ASSERT_EQ(Client().Call("GET", "/api/v1/me")->status, 200);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(Client().Call("GET", "/api/v1/nowhere")->status, 404);
    server_->Signal(SIGTERM);
    ASSERT_EQ(server_->Wait(), 0);
    std::string log = server_->log();
    EXPECT_EQ(count(log, "200"), ok_lines) << flags[1];
    EXPECT_EQ(count(log, "404"), failed_lines) << flags[1];
  }
}

TEST_F(ServerTest, SigtermFinishesInFlightRequestsAndExits) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, broken{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      client::Client c = Client();
      for (int i = 0; !stop; ++i) {
        auto r =
            c.Call("POST", "/api/v1/orgs",
                   fmt::format(R"({{"name":"o-{}-{}","kind":"startup","region":"KR"}})", t, i));
        if (!r.ok()) break;  // refused after shutdown began: fine
        if (r->status == 201) {
          ++ok;
        } else {
          ++broken;
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  // An idle keep-alive connection must not hold the shutdown up.
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket idle(ioc);
  idle.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
  server_->Signal(SIGTERM);
  int code = server_->WaitFor(10s);
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << server_->log();
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(broken.load(), 0);
  EXPECT_NE(server_->log().find("\"msg\":\"stopped\""), std::string::npos);
}

// SIGKILL in the middle of a burst of writes: every acknowledged write is there after restart,
// each with its audit entry, and the database passes its integrity check.
TEST_F(ServerTest, SigkillLosesNoAcknowledgedWrite) {
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      client::Client c = Client();
      for (int i = 0; !stop; ++i) {
        std::string name = fmt::format("burst-{}-{}", t, i);
        auto r = c.Call("POST", "/api/v1/orgs",
                        fmt::format(R"({{"name":"{}","kind":"startup","region":"KR"}})", name));
        if (!r.ok()) break;
        if (r->status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(name);
        }
      }
    });
  }
  std::this_thread::sleep_for(700ms);
  server_->Signal(SIGKILL);
  EXPECT_EQ(server_->Wait(), 128 + SIGKILL);
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_GT(acked.size(), 5u);

  server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
  ASSERT_GT(server_->port(), 0) << server_->log();
  std::set<std::string> found;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    auto r = Client().Call("GET",
                           "/api/v1/orgs?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200);
    auto v = json::parse(r->body);
    for (auto& o : v.at("items").as_array()) found.insert(std::string(o.at("name").as_string()));
    if (v.at("next_cursor").is_null()) break;
    cursor = std::string(v.at("next_cursor").as_string());
  }
  for (const auto& name : acked) EXPECT_TRUE(found.count(name)) << "lost acknowledged " << name;

  auto db = store::OpenSqlite(state_ + "/openlab.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto ic, tx.Query("PRAGMA integrity_check"));
                    EXPECT_EQ(ic[0].Str(0), "ok");
                    ASSIGN_OR_RETURN(auto orgs, tx.Query("SELECT COUNT(*) FROM orgs"));
                    ASSIGN_OR_RETURN(auto audited,
                                     tx.Query("SELECT COUNT(*) FROM audit WHERE action = "
                                              "'orgs.create' AND outcome = 'ok'"));
                    // Every org has its audit record and vice versa: they commit together.
                    EXPECT_EQ(orgs[0].Int(0), audited[0].Int(0));
                    ASSIGN_OR_RETURN(auto members, tx.Query("SELECT COUNT(*) FROM org_members"));
                    EXPECT_EQ(members[0].Int(0), orgs[0].Int(0));
                    return Status::Ok();
                  })
                  .ok());
}

// The data commons: a server killed while an upload is under way shows no partial version, its
// chunk store checks clean, and the upload resumes where it stopped (only the chunks the store
// lacks are sent again) to a version that reads back byte for byte.
TEST_F(ServerTest, SigkillDuringAnUploadLeavesNoPartialVersionAndTheUploadResumes) {
  client::Client c = Client();
  auto call = [&](const std::string& m, const std::string& path, const std::string& body = "",
                  const std::string& type = "") {
    std::vector<std::pair<std::string, std::string>> extra;
    if (!type.empty()) extra.emplace_back("content-type", type);
    auto r =
        c.Call(m, path, body.empty() && m == "GET" ? std::nullopt : std::optional(body), extra);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : client::HttpResult{};
  };
  auto id_of = [](const client::HttpResult& r) {
    auto v = json::parse(r.body);
    EXPECT_TRUE(v.is_object() && v.as_object().contains("id")) << r.status << " " << r.body;
    return v.is_object() && v.as_object().contains("id") ? std::string(v.at("id").as_string())
                                                         : std::string();
  };
  std::string me = id_of(call("GET", "/api/v1/me"));
  std::string org = id_of(
      call("POST", "/api/v1/orgs", R"({"name":"gist","kind":"university","region":"KR-29"})"));
  call("PUT", "/api/v1/orgs/" + org + "/members/" + me, R"({"role":"member"})");
  std::string prj =
      id_of(call("POST", "/api/v1/projects", fmt::format(R"({{"org_id":"{}","name":"pp"}})", org)));
  std::string ds = id_of(call("POST", "/api/v1/datasets",
                              fmt::format(R"({{"project_id":"{}","name":"dd","license":"CC0-1.0",)"
                                          R"("access_level":"project"}})",
                                          prj)));
  // 4 files of 6 MiB of random bytes, 64 KiB chunks.
  std::map<std::string, std::string> files;
  std::mt19937_64 rng(7);
  for (int f = 0; f < 4; ++f) {
    std::string b(6 << 20, '\0');
    for (size_t i = 0; i < b.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(b.data() + i, &v, 8);
    }
    files[fmt::format("part-{}.bin", f)] = std::move(b);
  }
  std::map<std::string, data::FileChunks> chunked;
  std::vector<std::pair<const std::string*, data::ChunkRef>> all;
  for (const auto& [path, content] : files) {
    chunked[path] = data::ChunkBuffer(reinterpret_cast<const uint8_t*>(content.data()),
                                      content.size(), data::ChunkerParams());
    for (const auto& ch : chunked[path].chunks) all.emplace_back(&content, ch);
  }
  std::string up = id_of(call("POST", "/api/v1/datasets/" + ds + "/uploads", "{}"));
  auto missing = [&]() {
    std::set<std::string> out;
    for (size_t i = 0; i < all.size(); i += 4000) {
      json::array ids;
      for (size_t k = i; k < std::min(all.size(), i + 4000); ++k) {
        ids.emplace_back(data::ToHex(all[k].second.id));
      }
      auto r = call("POST", "/api/v1/uploads/" + up + "/missing",
                    json::serialize(json::object{{"chunks", ids}}));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      json::value reply = json::parse(r.body);
      for (auto& v : reply.at("missing").as_array()) {
        out.insert(std::string(v.as_string()));
      }
    }
    return out;
  };
  auto send = [&](const std::set<std::string>& want, std::atomic<int>* acked) {
    std::string batch;
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      auto r = c.Call("PUT", "/api/v1/uploads/" + up + "/chunks", batch,
                      {{"content-type", "application/x-openlab-chunks"}});
      batch.clear();
      if (!r.ok() || r->status != 200) return false;
      if (acked) ++*acked;
      return true;
    };
    for (const auto& [content, ch] : all) {
      if (!want.count(data::ToHex(ch.id))) continue;
      data::AppendChunkRecord(&batch, ch.id,
                              std::string_view(*content).substr(ch.offset, ch.length));
      if (batch.size() >= (1u << 20) && !flush()) return false;
    }
    return flush();
  };
  std::set<std::string> first = missing();
  ASSERT_EQ(first.size(), all.size());
  // Send chunks in ~1 MiB batches; kill the server once a few batches are in.
  std::atomic<int> acked{0};
  std::thread sender([&] { send(first, &acked); });
  for (int i = 0; i < 500 && acked < 5; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(acked.load(), 5);
  server_->Signal(SIGKILL);
  EXPECT_EQ(server_->Wait(), 128 + SIGKILL);
  sender.join();

  server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
  ASSERT_GT(server_->port(), 0) << server_->log();
  c = Client();
  // No version, whole or partial.
  auto versions = json::parse(call("GET", "/api/v1/datasets/" + ds + "/versions").body);
  EXPECT_TRUE(versions.at("items").as_array().empty());
  auto fsck = json::parse(call("POST", "/api/v1/data/fsck").body);
  EXPECT_TRUE(fsck.at("ok").as_bool()) << fsck;
  // The same upload resumes; what was stored before the kill is not asked for again.
  auto resumed = call("POST", "/api/v1/datasets/" + ds + "/uploads", R"({"resume":true})");
  EXPECT_EQ(id_of(resumed), up);
  std::set<std::string> rest = missing();
  EXPECT_LT(rest.size(), all.size());
  EXPECT_GE(all.size() - rest.size(), 5u * 14);  // at least the acknowledged batches
  ASSERT_TRUE(send(rest, nullptr));
  EXPECT_TRUE(missing().empty());
  json::array segs, entries;
  for (const auto& [path, fc] : chunked) {
    json::array chunks;
    for (const auto& ch : fc.chunks) chunks.push_back(json::array{data::ToHex(ch.id), ch.length});
    segs.push_back(json::object{{"path", path}, {"seq", 0}, {"chunks", chunks}});
    entries.push_back(json::object{
        {"path", path}, {"size", fc.size}, {"sha256", data::ToHex(fc.sha256)}, {"segments", 1}});
  }
  auto f = call("POST", "/api/v1/uploads/" + up + "/files",
                json::serialize(json::object{{"segments", segs}, {"files", entries}}));
  ASSERT_EQ(f.status, 200) << f.body;
  auto commit = call("POST", "/api/v1/uploads/" + up + "/commit", R"({"tag":"v1"})");
  ASSERT_EQ(commit.status, 201) << commit.body;
  for (const auto& [path, content] : files) {
    auto r = call("GET", "/api/v1/datasets/" + ds + "/versions/v1/file?path=" + path);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == content) << path;
  }
  auto check = json::parse(call("POST", "/api/v1/data/fsck?files=true").body);
  EXPECT_TRUE(check.at("ok").as_bool()) << check;
  EXPECT_EQ(check.at("files").as_int64(), 4);
}

// The CLI end to end: log in with the bootstrap token, onboard an organisation, a user, a
// project, a member and a scoped token, then read the audit trail.
class CliTest : public ServerTest {
 protected:
  struct Out {
    int code;
    std::string out, err;
  };
  Out Cli(const std::vector<std::string>& args, const std::string& input = "") {
    std::string dir = state_ + "/cli";
    fs::create_directories(dir);
    std::string cmd =
        "OPENLAB_CONFIG=" + dir + "/credentials.json OPENLAB_URL= OPENLAB_TOKEN= " + Bin();
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " <" + dir + "/in >" + dir + "/out 2>" + dir + "/err";
    std::ofstream(dir + "/in") << input;
    int rc = std::system(cmd.c_str());
    return {WEXITSTATUS(rc), ReadFile(dir + "/out"), ReadFile(dir + "/err")};
  }
};

TEST_F(CliTest, OperatorOnboardsAProjectFromTheCommandLine) {
  auto login = Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"});
  ASSERT_EQ(login.code, 0) << login.err;
  EXPECT_NE(login.out.find("as operator"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat((state_ + "/cli/credentials.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto org = Cli({"--json", "org", "create", "gist", "--kind", "university", "--region", "KR-29"});
  ASSERT_EQ(org.code, 0) << org.err;
  std::string org_id(json::parse(org.out).at("id").as_string());
  auto user = Cli({"user", "create", "alice", "--email", "alice@gist.ac.kr", "--password-stdin"},
                  "a long enough password\n");
  ASSERT_EQ(user.code, 0) << user.err;
  ASSERT_EQ(Cli({"org", "add-member", org_id, "alice"}).code, 0);
  auto prj = Cli({"--json", "project", "create", "traffic", "--org", org_id, "--pi", "alice"});
  ASSERT_EQ(prj.code, 0) << prj.err;
  std::string prj_id(json::parse(prj.out).at("id").as_string());

  // The centre grants GPU-hours; the balance shows in a table.
  auto grant = Cli({"alloc", "grant", prj_id, "--resource", "gpu:H100", "--hours", "250",
                    "--expires", "2099-01-01T00:00:00Z", "--note", "call 2026-2"});
  ASSERT_EQ(grant.code, 0) << grant.err;
  auto allocs = Cli({"alloc", "ls", prj_id});
  ASSERT_EQ(allocs.code, 0) << allocs.err;
  EXPECT_NE(allocs.out.find("LEFT_HOURS"), std::string::npos) << allocs.out;
  EXPECT_NE(allocs.out.find("250"), std::string::npos) << allocs.out;

  // Alice logs in with her password and invites Bob.
  auto bob = Cli({"user", "create", "bob", "--email", "bob@gist.ac.kr"});
  ASSERT_EQ(bob.code, 0) << bob.err;
  auto alice_login = Cli({"login", "--url", server_->url(), "-u", "alice", "--password-stdin"},
                         "a long enough password\n");
  ASSERT_EQ(alice_login.code, 0) << alice_login.err;
  auto add = Cli({"member", "add", prj_id, "bob", "--role", "student"});
  ASSERT_EQ(add.code, 0) << add.err;
  auto members = Cli({"member", "ls", prj_id});
  ASSERT_EQ(members.code, 0);
  EXPECT_NE(members.out.find("USERNAME"), std::string::npos);  // a table by default
  EXPECT_NE(members.out.find("student"), std::string::npos);
  auto tok = Cli({"--json", "token", "create", "--name", "notebook", "--scope", "projects:read"});
  ASSERT_EQ(tok.code, 0) << tok.err;
  EXPECT_EQ(std::string(json::parse(tok.out).at("secret").as_string()).rfind("olt_", 0), 0u);

  // Errors: one line on stderr, non-zero exit.
  auto denied = Cli({"org", "create", "other", "--kind", "startup", "--region", "KR"});
  EXPECT_NE(denied.code, 0);
  EXPECT_EQ(std::count(denied.err.begin(), denied.err.end(), '\n'), 1) << denied.err;
  EXPECT_NE(denied.err.find("HTTP 403"), std::string::npos) << denied.err;
  auto bad = Cli({"project", "create", "Bad Name!", "--org", org_id});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("HTTP 400"), std::string::npos) << bad.err;

  // Back as the operator: the audit trail shows what happened, as JSON lines.
  ASSERT_EQ(
      Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"}).code, 0);
  auto audit = Cli({"audit", "--jsonl"});
  ASSERT_EQ(audit.code, 0) << audit.err;
  for (const char* action : {"orgs.create", "users.create", "projects.create",
                             "projects.members.put", "tokens.create", "auth.login"}) {
    EXPECT_NE(audit.out.find(fmt::format("\"action\":\"{}\"", action)), std::string::npos)
        << action;
  }
  EXPECT_NE(audit.out.find("\"outcome\":\"forbidden\""), std::string::npos);
  // Read as a list, the newest first.
  auto listed = json::parse(Cli({"audit", "--json"}).out);
  std::vector<std::string> ids;
  for (const auto& e : listed.at("items").as_array()) ids.emplace_back(e.at("id").as_string());
  ASSERT_GE(ids.size(), 6u);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
}

// Compute lending end to end: a PI with a grant submits a job with the CLI, follows its log and
// sees the charge; a job the rest of the grant cannot cover waits with AllocationExhausted.
TEST_F(CliTest, APiRunsAJobFollowsItsLogAndSeesTheCharge) {
  ASSERT_EQ(
      Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"}).code, 0);
  auto org = Cli({"--json", "org", "create", "gist", "--kind", "university", "--region", "KR-29"});
  std::string org_id(json::parse(org.out).at("id").as_string());
  ASSERT_EQ(Cli({"user", "create", "alice", "--email", "a@gist.ac.kr", "--password-stdin"},
                "a long enough password\n")
                .code,
            0);
  ASSERT_EQ(Cli({"org", "add-member", org_id, "alice"}).code, 0);
  auto prj = Cli({"--json", "project", "create", "traffic", "--org", org_id, "--pi", "alice"});
  std::string prj_id(json::parse(prj.out).at("id").as_string());
  ASSERT_EQ(Cli({"alloc", "grant", prj_id, "--resource", "cpu", "--hours", "1", "--expires",
                 "2099-01-01T00:00:00Z"})
                .code,
            0);
  ASSERT_EQ(Cli({"login", "--url", server_->url(), "-u", "alice", "--password-stdin"},
                "a long enough password\n")
                .code,
            0);

  auto sub = Cli({"--json", "job", "submit", "--project", prj_id, "--name", "hello", "--time-limit",
                  "40m", "--", "sh", "-c", "echo hello from $OPENLAB_JOB_ID; sleep 2; echo bye"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  std::string job(json::parse(sub.out).at("id").as_string());
  // While it runs (40 core-minutes held of 60), a 30-minute job cannot be covered: it waits.
  auto second =
      Cli({"--json", "job", "submit", "--project", prj_id, "--time-limit", "30m", "--", "true"});
  ASSERT_EQ(second.code, 0) << second.err;
  std::string waiting(json::parse(second.out).at("id").as_string());
  // It says why it waits while the first job holds the grant (2 s at least).
  bool saw_reason = false;
  for (int i = 0; i < 250 && !saw_reason; ++i) {
    auto w = json::parse(Cli({"--json", "job", "show", waiting}).out);
    saw_reason = w.at("reason").as_string() == "AllocationExhausted";
    if (w.at("state").as_string() != "queued") break;
    if (!saw_reason) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(saw_reason);

  auto logs = Cli({"job", "logs", "-f", job});
  ASSERT_EQ(logs.code, 0) << logs.err;
  EXPECT_EQ(logs.out, "hello from " + job + "\nbye\n");
  auto shown = json::parse(Cli({"--json", "job", "show", job}).out);
  EXPECT_EQ(shown.at("state").as_string(), "completed");
  EXPECT_EQ(shown.at("exit_code").as_int64(), 0);
  // It ran in the sandbox, as its project's own uid (the server being root), with network.
  std::string sandbox(shown.at("sandbox").as_string());
  EXPECT_NE(sandbox.find("namespaces (pid, mount, ipc, uts)"), std::string::npos) << sandbox;
  EXPECT_NE(sandbox.find("seccomp"), std::string::npos) << sandbox;
  if (geteuid() == 0) {
    EXPECT_NE(sandbox.find("uid 200000"), std::string::npos) << sandbox;
  }
  auto table = Cli({"job", "show", job});
  EXPECT_NE(table.out.find("namespaces"), std::string::npos) << table.out;
  double charged = shown.at("charged_hours").as_double();
  EXPECT_GT(charged, 1.9 / 3600);  // it ran about 2 s
  EXPECT_LT(charged, 60.0 / 3600);
  // The waiting job starts once the hold is released (within the retry time).
  bool ran = false;
  double second_charged = 0;
  for (int i = 0; i < 100 && !ran; ++i) {
    auto w = json::parse(Cli({"--json", "job", "show", waiting}).out);
    ran = w.at("state").as_string() == "completed";
    if (ran) second_charged = w.at("charged_hours").as_double();
    if (!ran) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(ran);
  // The grant was charged for both jobs, and for nothing else.
  auto allocs = json::parse(Cli({"--json", "alloc", "ls", prj_id}).out);
  auto& a = allocs.at("items").as_array().at(0);
  EXPECT_NEAR(a.at("used_hours").as_double(), charged + second_charged, 1e-9);
  // Tables round for people (no 0.0005833333333333334).
  auto alloc_table = Cli({"alloc", "ls", prj_id});
  EXPECT_FALSE(std::regex_search(alloc_table.out, std::regex("[0-9]\\.[0-9]{6,}")))
      << alloc_table.out;
  // --json after the subcommand; the newest first; --mine and --state filter.
  auto mine = Cli({"job", "ls", "--mine", "--json"});
  ASSERT_EQ(mine.code, 0) << mine.err;
  auto listed = json::parse(mine.out).at("items").as_array();
  ASSERT_EQ(listed.size(), 2u) << mine.out;
  EXPECT_EQ(listed[0].at("id").as_string(), waiting);
  EXPECT_EQ(listed[1].at("id").as_string(), job);
  auto queued = Cli({"job", "ls", "--state", "queued", "--json"});
  ASSERT_EQ(queued.code, 0) << queued.err;
  EXPECT_TRUE(json::parse(queued.out).at("items").as_array().empty()) << queued.out;
}

// Compute-to-data end to end: a job of another project, with an approved access request, reads a
// restricted dataset copied read-only into its directory, works in a sealed directory of its
// own, and its result leaves once the data's steward approves the export. The operator plays
// every part here (the policy decisions are tested per role in data_api_test.cc).
TEST_F(CliTest, ASealedJobReadsRestrictedDataAndItsResultLeavesByExport) {
  std::string op = Trim(ReadFile(state_ + "/bootstrap-token"));
  client::Client c({server_->url(), op});
  auto call = [&](const std::string& method, const std::string& path, const std::string& body,
                  int want) {
    auto r = c.Call(method, path, body);
    EXPECT_TRUE(r.ok() && r->status == want)
        << method << " " << path << ": " << (r.ok() ? r->body : r.status().message());
    return r.ok() && !r->body.empty() && r->body[0] == '{' ? json::parse(r->body) : json::value();
  };
  std::string org(call("POST", "/api/v1/orgs",
                       R"({"name":"hospital","kind":"research_institute","region":"KR-29"})", 201)
                      .at("id")
                      .as_string());
  auto project = [&](const char* name) {
    return std::string(call("POST", "/api/v1/projects",
                            fmt::format(R"({{"org_id":"{}","name":"{}"}})", org, name), 201)
                           .at("id")
                           .as_string());
  };
  std::string owner = project("records"), analysis = project("analysis");
  std::string ds(call("POST", "/api/v1/datasets",
                      fmt::format(R"({{"project_id":"{}","name":"clinic","license":"CC-BY-4.0",)"
                                  R"("access_level":"restricted"}})",
                                  owner),
                      201)
                     .at("id")
                     .as_string());
  std::string scratch = TempDir();
  std::string src = scratch + "/clinic";
  fs::create_directories(src);
  std::ofstream(src + "/visits.csv") << "day,count\n1,42\n";
  std::string env = fmt::format("OPENLAB_CONFIG={}/none.json OPENLAB_URL={} OPENLAB_TOKEN={} ",
                                scratch, server_->url(), op);
  ASSERT_EQ(std::system((env + Bin() + " data push " + src + " " + ds + " >/dev/null").c_str()), 0);
  call("POST", "/api/v1/projects/" + analysis + "/allocations",
       R"({"resource":"cpu","hours":1,"expires_at":"2099-01-01T00:00:00Z"})", 201);
  std::string req(
      call("POST", "/api/v1/datasets/" + ds + "/access-requests",
           fmt::format(R"({{"purpose":"readmissions","days":7,"project_id":"{}"}})", analysis), 201)
          .at("id")
          .as_string());
  call("POST", "/api/v1/access-requests/" + req + "/approve", "{}", 200);

  // The analyst submits from the command line, naming the input.
  ASSERT_EQ(
      Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"}).code, 0);
  std::ofstream(scratch + "/study.sh")
      << "set -e\n"
         "wc -l < \"$OPENLAB_DATA_CLINIC/visits.csv\" > result.txt\n"
         "stat -c %a \"$OPENLAB_DATA_CLINIC/visits.csv\" >> result.txt\n"
         "pwd >> result.txt\n"
         // The node's cache entry, bound read-only: no writing, no chmod, no other entry.
         "touch \"$OPENLAB_DATA_CLINIC/x\" 2>/dev/null && echo wrote >> result.txt\n"
         "echo more 2>/dev/null >> \"$OPENLAB_DATA_CLINIC/visits.csv\" && echo appended >> "
         "result.txt\n"
         "chmod 666 \"$OPENLAB_DATA_CLINIC/visits.csv\" 2>/dev/null && echo chmod >> result.txt\n"
         "ls \"$(dirname \"$OPENLAB_DATA_CLINIC\")\" | wc -l >> result.txt\n"
         "ls \"$(dirname \"$(dirname \"$OPENLAB_DATA_CLINIC\")\")\" >> result.txt\n"
         "echo sealed=$OPENLAB_SEALED\n";
  auto sub = Cli({"--json", "job", "submit", "--project", analysis, "--name", "study", "--script",
                  scratch + "/study.sh", "--data", "clinic=" + ds + "@latest"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  auto job = json::parse(sub.out);
  EXPECT_TRUE(job.at("sealed").as_bool());
  EXPECT_EQ(job.at("data").at(0).at("as").as_string(), "clinic");
  std::string id(job.at("id").as_string());
  json::value shown;
  for (int i = 0; i < 300; ++i) {
    shown = call("GET", "/api/v1/jobs/" + id, "", 200);
    std::string st(shown.at("state").as_string());
    if (st == "completed" || st == "failed" || st == "cancelled") break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(shown.at("state").as_string(), "completed") << json::serialize(shown);
  // It ran in the sandbox, without network, and (the server being root) as its project's uid.
  std::string sandbox(shown.at("sandbox").as_string());
  EXPECT_NE(sandbox.find("network off"), std::string::npos) << sandbox;
  EXPECT_NE(sandbox.find("seccomp"), std::string::npos) << sandbox;
  if (geteuid() == 0) {
    EXPECT_NE(sandbox.find("uid 200000"), std::string::npos) << sandbox;
  }
  std::string job_dir = state_ + "/jobs/" + id;
  // It read the version from the node's cache, bound read-only: its writes and chmod failed,
  // and of the cache it saw its one entry (v/<key>) and nothing else (no meta, refs, tmp).
  EXPECT_EQ(ReadFile(job_dir + "/work/result.txt"),
            "2\n444\n" + fs::canonical(job_dir + "/work").string() + "\n1\nv\n");
  EXPECT_FALSE(fs::exists(job_dir + "/data"));  // no copy was made
  std::string cache = fs::canonical(state_).string() + "/data/cache";
  ASSERT_TRUE(fs::is_directory(cache + "/v"));
  EXPECT_EQ(std::distance(fs::directory_iterator(cache + "/v"), fs::directory_iterator()), 1);
  struct stat cst {};
  ASSERT_EQ(::stat(cache.c_str(), &cst), 0);
  EXPECT_EQ(cst.st_mode & 0777, 0700u);
  // Its reference went when it ended (the entry stays for the next job, under the limit).
  for (const auto& r : fs::directory_iterator(cache + "/refs")) {
    EXPECT_TRUE(fs::is_empty(r.path())) << r.path();
  }
  EXPECT_FALSE(fs::exists(state_ + "/projects/" + analysis + "/result.txt"));
  auto logs = c.Call("GET", "/api/v1/jobs/" + id + "/logs");  // operators may read them
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->body, "sealed=1\n");

  // The project may not read the output; it asks for the result to leave, and the steward
  // approves (the operator plays both parts here).
  auto asked =
      Cli({"export", "request", id, "result.txt", "--purpose", "line count for the report"});
  ASSERT_EQ(asked.code, 0) << asked.err;
  EXPECT_NE(asked.out.find("pending"), std::string::npos) << asked.out;
  auto at = asked.out.find("exp_");
  ASSERT_NE(at, std::string::npos) << asked.out;
  std::string exp_id = asked.out.substr(at, asked.out.find('\n', at) - at);
  auto approved = Cli({"export", "approve", exp_id, "--reason", "aggregate only"});
  ASSERT_EQ(approved.code, 0) << approved.err;
  EXPECT_NE(approved.out.find("approved"), std::string::npos) << approved.out;
  auto got = Cli({"export", "get", exp_id, "result.txt"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out, ReadFile(job_dir + "/work/result.txt"));
  auto missing = Cli({"export", "get", exp_id, "other.txt"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  fs::remove_all(scratch);
}

// SIGKILL the server while a job runs: after the restart the job is re-adopted (its supervisor
// kept it running), it completes, its charge is settled once, and the ledger balances.
TEST_F(CliTest, SigkillWhileAJobRunsLosesNothingAndTheLedgerBalances) {
  ASSERT_EQ(
      Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"}).code, 0);
  std::string org_id(
      json::parse(
          Cli({"--json", "org", "create", "lab", "--kind", "startup", "--region", "KR"}).out)
          .at("id")
          .as_string());
  std::string prj_id(json::parse(Cli({"--json", "project", "create", "p1", "--org", org_id}).out)
                         .at("id")
                         .as_string());
  ASSERT_EQ(Cli({"alloc", "grant", prj_id, "--resource", "cpu", "--hours", "5", "--expires",
                 "2099-01-01T00:00:00Z"})
                .code,
            0);
  std::string running(
      json::parse(Cli({"--json", "job", "submit", "--project", prj_id, "--time-limit", "1h", "--",
                       "sh", "-c", "sleep 3; echo survived"})
                      .out)
          .at("id")
          .as_string());
  std::string queued(json::parse(Cli({"--json", "job", "submit", "--project", prj_id, "--cpus", "2",
                                      "--after", running, "--", "true"})
                                     .out)
                         .at("id")
                         .as_string());
  for (int i = 0; i < 50; ++i) {
    if (json::parse(Cli({"--json", "job", "show", running}).out).at("state").as_string() ==
        "running")
      break;
    std::this_thread::sleep_for(100ms);
  }
  server_->Signal(SIGKILL);
  server_->Wait();
  server_ = std::make_unique<ServerProcess>(state_, std::vector<std::string>{"--quiet"});
  ASSERT_GT(server_->port(), 0) << server_->log();
  ASSERT_EQ(
      Cli({"login", "--url", server_->url(), "--token-file", state_ + "/bootstrap-token"}).code, 0);
  std::string s1, s2;
  for (int i = 0; i < 150; ++i) {
    s1 = std::string(
        json::parse(Cli({"--json", "job", "show", running}).out).at("state").as_string());
    s2 = std::string(
        json::parse(Cli({"--json", "job", "show", queued}).out).at("state").as_string());
    if (s1 == "completed" && s2 == "completed") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(s1, "completed");
  EXPECT_EQ(s2, "completed");  // nothing queued was lost
  EXPECT_EQ(Cli({"job", "logs", running}).out, "survived\n");
  auto db = store::OpenSqlite(state_ + "/openlab.db");
  ASSERT_TRUE(db.ok());
  Status v = (*db)->Read([](store::Tx& tx) { return compute::VerifyLedger(tx); });
  EXPECT_TRUE(v.ok()) << v.ToString();
  ASSERT_TRUE((*db)
                  ->Read([&](store::Tx& tx) -> Status {
                    ASSIGN_OR_RETURN(auto rows,
                                     tx.Query("SELECT COUNT(*) FROM ledger WHERE kind = 'charge'"));
                    EXPECT_EQ(rows[0].Int(0), 2);  // each job charged exactly once
                    ASSIGN_OR_RETURN(auto held, tx.Query("SELECT SUM(held) FROM allocations"));
                    EXPECT_EQ(held[0].Int(0), 0);
                    return Status::Ok();
                  })
                  .ok());
}

// The same flow with jobs handed to a real Slurm (the single-node cluster `make test` starts):
// a GPU job asks for GRES GPUs, runs, and is charged to the project's GPU grant.
TEST(SlurmServer, AGpuJobRunsOnSlurmAndIsCharged) {
  const char* conf = std::getenv("OPENLAB_TEST_SLURM_CONF");
  if (conf == nullptr || *conf == '\0') GTEST_SKIP() << "OPENLAB_TEST_SLURM_CONF is not set";
  std::string state = TempDir();
  // As root, the job runs as its project's uid, which Slurm must know: scripts/slurm.sh makes
  // users for these.
  ServerProcess s(state, {"--quiet", "--executor", "slurm", "--slurm-conf", conf, "--slurm-gpus",
                          "4", "--slurm-gpu-type", "GPU", "--job-uid-range", "61235-61239"});
  ASSERT_GT(s.port(), 0) << s.log();
  client::Client c({s.url(), Trim(ReadFile(state + "/bootstrap-token"))});
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = c.Call("POST", path, body);
    EXPECT_TRUE(r.ok());
    return json::parse(r->body);
  };
  std::string org(
      post("/api/v1/orgs", R"({"name":"hpc","kind":"research_institute","region":"KR"})")
          .at("id")
          .as_string());
  std::string prj(post("/api/v1/projects", fmt::format(R"({{"org_id":"{}","name":"llm"}})", org))
                      .at("id")
                      .as_string());
  post("/api/v1/projects/" + prj + "/allocations",
       R"({"resource":"gpu:GPU","hours":10,"expires_at":"2099-01-01T00:00:00Z"})");
  // The operator created the project and is its PI, so may submit.
  auto job =
      post("/api/v1/jobs",
           fmt::format(R"({{"project_id":"{}","name":"gres","gpus":2,)"
                       R"("gpu_type":"GPU","time_limit_s":600,)"
                       R"("command":["/bin/sh","-c","echo gpus=$CUDA_VISIBLE_DEVICES; sleep 1"]}})",
                       prj));
  ASSERT_TRUE(job.as_object().contains("id")) << json::serialize(job);
  std::string id(job.at("id").as_string());
  json::value shown;
  for (int i = 0; i < 300; ++i) {
    shown = json::parse(c.Call("GET", "/api/v1/jobs/" + id)->body);
    if (shown.at("state") == json::value("completed") || shown.at("state") == json::value("failed"))
      break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(shown.at("state").as_string(), "completed") << json::serialize(shown);
  EXPECT_EQ(c.Call("GET", "/api/v1/jobs/" + id + "/logs")->body, "gpus=0,1\n");
  // Run by the sandbox on the node, as the project's uid.
  ASSERT_TRUE(shown.as_object().contains("sandbox")) << json::serialize(shown);
  EXPECT_NE(std::string(shown.at("sandbox").as_string()).find("namespaces"), std::string::npos)
      << json::serialize(shown);
  if (geteuid() == 0) {
    EXPECT_NE(std::string(shown.at("sandbox").as_string()).find("uid 61235"), std::string::npos)
        << json::serialize(shown);
  }
  EXPECT_GT(shown.at("charged_hours").as_double(), 0.0);
  auto allocs = json::parse(c.Call("GET", "/api/v1/projects/" + prj + "/allocations")->body);
  EXPECT_DOUBLE_EQ(allocs.at("items").as_array().at(0).at("used_hours").as_double(),
                   shown.at("charged_hours").as_double());
  fs::remove_all(state);
}

TEST(CliErrors, UnreachableServerIsOneLine) {
  std::string cmd =
      "OPENLAB_CONFIG=/nonexistent/c.json OPENLAB_URL=http://127.0.0.1:1 OPENLAB_TOKEN=x " + Bin() +
      " org ls 2>&1 >/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[1024] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  int rc = pclose(p);
  std::string err(buf, n);
  EXPECT_NE(WEXITSTATUS(rc), 0);
  EXPECT_EQ(err.rfind("openlab: error: cannot reach openlab", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
}

// The same server binary on PostgreSQL.
TEST(ServerOnPostgres, ServesAndSurvivesRestart) {
  const char* pg = std::getenv("OPENLAB_TEST_PG_URL");
  if (pg == nullptr || *pg == '\0') GTEST_SKIP() << "OPENLAB_TEST_PG_URL is not set";
  std::string name = "openlab_e2e_" + NewId("x").substr(2);
  for (char& c : name) c = static_cast<char>(tolower(c));
  ASSERT_TRUE(store::PgAdminExec(pg, "CREATE DATABASE " + name).ok());
  std::string url = std::string(pg).substr(0, std::string(pg).rfind('/') + 1) + name;
  std::string state = TempDir();
  std::string org_id;
  {
    ServerProcess s(state, {"--quiet", "--db", url});
    ASSERT_GT(s.port(), 0) << s.log();
    std::string token = Trim(ReadFile(state + "/bootstrap-token"));
    client::Client c({s.url(), token});
    EXPECT_EQ(c.Call("GET", "/readyz")->status, 200);
    auto r = c.Call("POST", "/api/v1/orgs",
                    R"({"name":"hanoi-lab","kind":"research_institute","region":"VN-HN"})");
    ASSERT_EQ(r->status, 201) << r->body;
    org_id = std::string(json::parse(r->body).at("id").as_string());
    s.Signal(SIGTERM);
    EXPECT_EQ(s.Wait(), 0);
  }
  {
    ServerProcess s(state, {"--quiet", "--db", url});
    std::string token = Trim(ReadFile(state + "/bootstrap-token"));
    client::Client c({s.url(), token});
    auto r = c.Call("GET", "/api/v1/orgs/" + org_id);
    EXPECT_EQ(r->status, 200);
  }
  fs::remove_all(state);
  (void)store::PgAdminExec(pg, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

}  // namespace
}  // namespace openlab
