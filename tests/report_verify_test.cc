// `openlab report verify` end to end: the real binary on real files. A report verifies with the
// key in each of its three forms; changing any one byte of a report makes it fail, with the
// error of the part changed, unless the change leaves the envelope's JSON the same value (the
// signature covers the decoded payload, not the envelope's whitespace); a wrong key, a truncated
// file and an unreachable key server each fail with one line. Without --key, the key is fetched
// from the server of the login.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "server_process.h"
#include "validation/report/report.h"

namespace openlab {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace report = validation::report;
using testing::Bin;
using testing::ReadFile;

struct Result {
  int code = -1;
  std::string out, err;
};

void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}

// Runs the binary with `args` (no shell), an unreachable default server and no saved login.
Result RunCli(const std::vector<std::string>& args, const fs::path& dir,
              const std::string& url = "http://127.0.0.1:1") {
  fs::path out = dir / "stdout", err = dir / "stderr";
  pid_t pid = fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    setenv("OPENLAB_URL", url.c_str(), 1);
    setenv("OPENLAB_CONFIG", (dir / "no-login.json").c_str(), 1);
    unsetenv("OPENLAB_TOKEN");
    std::vector<char*> argv;
    std::string bin = Bin();
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out.string()),
          ReadFile(err.string())};
}

// The one line of a failure: "openlab: error: ..." and a newline, nothing else.
void ExpectOneErrorLine(const Result& r, std::string_view says) {
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("openlab: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
}

report::ReportContents Contents(bool small) {
  report::ReportContents c;
  c.subject_name = "submission/sub_1";
  c.subject_sha256 = Sha256Hex("predictions");
  c.benchmark_id = "bm_1";
  c.benchmark_title = small ? "T" : "Gwangju traffic counts";
  c.phase_id = "ph_1";
  c.phase_name = small ? "F" : "Final";
  c.datasets = {{"ground_truth", "dataset/ds_1", Sha256Hex("truth")}};
  if (!small)
    c.datasets.insert(c.datasets.begin(), {"participant_inputs", "dataset/ds_0", Sha256Hex("in")});
  c.metrics = {{"accuracy", 0.875, "private", "higher_is_better", "fraction right"}};
  if (!small)
    c.metrics.push_back({"rmse", 2.5, "public", "lower_is_better", "root mean squared error"});
  c.scored_at_ms = 1796300000123;
  c.issued_at_ms = 1796300060000;
  c.openlab_version = "0.9.0";
  c.centre_name = "C";
  c.centre_url = "https://c.example";
  return c;
}

class ReportVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/openlab-report-verify-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto key = report::LoadOrCreateSigningKey(dir_ / "centre" / "report-key.json");
    ASSERT_TRUE(key.ok()) << key.status().message();
    key_ = std::make_unique<report::SigningKey>(*key);
    WriteFile(dir_ / "key.json", key_->PublicKeyDocument());
    WriteFile(dir_ / "key.pem", key_->public_key().Pem());
    WriteFile(dir_ / "key.b64", key_->PublicKeyBase64() + "\n");
    WriteFile(dir_ / "report.json", Envelope(false));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Envelope(bool small) {
    return report::SignEnvelope(*key_, report::Statement(Contents(small)).value()).value();
  }
  Result Verify(const fs::path& file, const fs::path& key) {
    return RunCli({"report", "verify", file.string(), "--key", key.string()}, dir_);
  }

  fs::path dir_;
  std::unique_ptr<report::SigningKey> key_;
};

TEST_F(ReportVerifyTest, VerifiesWithEachFormOfTheKeyAndPrintsWhatItSays) {
  for (const char* k : {"key.json", "key.pem", "key.b64"}) {
    Result r = Verify(dir_ / "report.json", dir_ / k);
    EXPECT_EQ(r.code, 0) << k << ": " << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("verified: signed by " + key_->KeyId() + " (key from " +
                         (dir_ / k).string() + ", offline)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Gwangju traffic counts (bm_1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Final (ph_1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("submission/sub_1  sha256:" + Sha256Hex("predictions")), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("accuracy = 0.875  (private, higher is better): fraction right"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("rmse = 2.5  (public, lower is better)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("issued at   2026-12-03T12:14:20.000Z"), std::string::npos) << r.out;
  }
}

TEST_F(ReportVerifyTest, JsonAnywhereOnTheLine) {
  std::string statement = report::Statement(Contents(false)).value();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--json", "report", "verify", (dir_ / "report.json").string(), "--key",
            (dir_ / "key.pem").string()},
           {"report", "verify", (dir_ / "report.json").string(), "--json", "--key",
            (dir_ / "key.pem").string()}}) {
    Result r = RunCli(args, dir_);
    ASSERT_EQ(r.code, 0) << r.err;
    json::object o = json::parse(r.out).as_object();
    EXPECT_EQ(o.at("verified"), true);
    EXPECT_EQ(o.at("keyid").as_string(), key_->KeyId());
    EXPECT_EQ(o.at("key_fetched"), false);
    EXPECT_EQ(o.at("statement"), json::parse(statement));
  }
}

// Every byte of a small report, changed two ways (its lowest bit flipped; made a space): the
// report fails unless the changed file is the same JSON value as the report (which, the envelope
// being one line of JSON and a newline, is only the newline made a space), and the error names
// the part changed.
TEST_F(ReportVerifyTest, ChangingAnyByteFailsWithTheErrorOfThePartChanged) {
  std::string env = Envelope(true);
  json::value original = json::parse(env);
  json::object o = original.as_object();
  auto span_of = [&](std::string_view value) {
    size_t at = env.find("\"" + std::string(value) + "\"");
    EXPECT_NE(at, std::string::npos);
    return std::pair<size_t, size_t>{at + 1, at + 1 + value.size()};  // inside the quotes
  };
  auto payload = span_of(o.at("payload").as_string());
  auto sig = span_of(o.at("signatures").at(0).at("sig").as_string());
  auto keyid = span_of(o.at("signatures").at(0).at("keyid").as_string());
  auto type = span_of(o.at("payloadType").as_string());
  auto in = [](size_t i, std::pair<size_t, size_t> span) {
    return i >= span.first && i < span.second;
  };
  int verified = 0, runs = 0;
  fs::path file = dir_ / "changed.json";
  for (size_t i = 0; i < env.size(); ++i) {
    for (char to : {static_cast<char>(env[i] ^ 1), ' '}) {
      if (to == env[i]) continue;
      std::string changed = env;
      changed[i] = to;
      WriteFile(file, changed);
      Result r = Verify(file, dir_ / "key.json");
      ++runs;
      boost::system::error_code ec;
      json::value v = json::parse(changed, ec);
      SCOPED_TRACE(::testing::Message()
                   << "byte " << i << " '" << env[i] << "' -> '" << to << "': " << r.err);
      if (!ec && v == original) {
        EXPECT_EQ(r.code, 0);
        ++verified;
        continue;
      }
      if (in(i, payload)) {
        ASSERT_TRUE(r.err.find("signature does not match") != std::string::npos ||
                    r.err.find("payload is not canonical standard base64") != std::string::npos);
      } else if (in(i, sig)) {
        ASSERT_TRUE(r.err.find("signature does not match") != std::string::npos ||
                    r.err.find("sig is not canonical standard base64") != std::string::npos);
      } else if (in(i, keyid)) {
        ASSERT_NE(r.err.find("no signature by key " + key_->KeyId()), std::string::npos);
      } else if (in(i, type)) {
        ASSERT_NE(r.err.find("payloadType is"), std::string::npos);
      }
      ExpectOneErrorLine(r, "");
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_EQ(verified, 1);  // the final newline made a space
  EXPECT_GT(runs, static_cast<int>(env.size()));
}

TEST_F(ReportVerifyTest, AWrongKeyFails) {
  report::SigningKey other = report::SigningKey::Generate();
  WriteFile(dir_ / "other.json", other.PublicKeyDocument());
  ExpectOneErrorLine(Verify(dir_ / "report.json", dir_ / "other.json"),
                     "no signature by key " + other.KeyId());
  // The other key's id written over the signature's: the signature is still not the other key's.
  std::string env = ReadFile((dir_ / "report.json").string());
  size_t at = env.find(key_->KeyId());
  ASSERT_NE(at, std::string::npos);
  env.replace(at, key_->KeyId().size(), other.KeyId());
  WriteFile(dir_ / "relabelled.json", env);
  ExpectOneErrorLine(Verify(dir_ / "relabelled.json", dir_ / "other.json"),
                     "signature does not match: the report was changed or was not signed by "
                     "this key");
  WriteFile(dir_ / "garbage.key", "not a key\n");
  ExpectOneErrorLine(Verify(dir_ / "report.json", dir_ / "garbage.key"),
                     "not 32 bytes in standard base64");
  ExpectOneErrorLine(Verify(dir_ / "report.json", dir_ / "missing.key"),
                     "cannot read the key file");
}

TEST_F(ReportVerifyTest, ATruncatedFileFailsWithOneLine) {
  std::string env = ReadFile((dir_ / "report.json").string());
  for (size_t len : {size_t{0}, size_t{1}, env.size() / 3, env.size() / 2, env.size() - 3}) {
    WriteFile(dir_ / "cut.json", env.substr(0, len));
    ExpectOneErrorLine(Verify(dir_ / "cut.json", dir_ / "key.json"), "not valid JSON");
  }
  ExpectOneErrorLine(Verify(dir_ / "absent.json", dir_ / "key.json"), "cannot read the report");
}

// A server that answers one request with `body`; it records the request line.
class OneAnswerServer {
 public:
  explicit OneAnswerServer(std::string body) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this, body] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_line_ = req.substr(0, req.find("\r\n"));
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!::write(c, answer.data(), answer.size());
      ::close(c);
    });
  }
  ~OneAnswerServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Waits for the one request to be answered.
  std::string request_line() {
    if (thread_.joinable()) thread_.join();
    return request_line_;
  }

 private:
  int fd_ = -1, port_ = 0;
  std::thread thread_;
  std::string request_line_;
};

TEST_F(ReportVerifyTest, WithoutKeyTheKeyComesFromTheServerOfTheLogin) {
  OneAnswerServer server(key_->PublicKeyDocument());
  Result r = RunCli({"report", "verify", (dir_ / "report.json").string()}, dir_, server.url());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(key from " + server.url() +
                       "/.well-known/openlab-report-key.json, fetched (--key FILE verifies "
                       "offline))"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(server.request_line(), "GET /.well-known/openlab-report-key.json HTTP/1.1");
  // No server there: one line naming what could not be fetched.
  ExpectOneErrorLine(RunCli({"report", "verify", (dir_ / "report.json").string()}, dir_),
                     "cannot fetch http://127.0.0.1:1/.well-known/openlab-report-key.json");
}

}  // namespace
}  // namespace openlab
