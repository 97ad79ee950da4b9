#include "cli/report_commands.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/output.h"
#include "client/client.h"
#include "common/clock.h"
#include "validation/report/report.h"

namespace openlab::cli {
namespace {

namespace json = boost::json;
namespace report = validation::report;

constexpr const char* kKeyPath = "/.well-known/openlab-report-key.json";

struct VerifyArgs {
  std::string file, key;
};

int Fail(const std::string& msg) {
  std::string m = msg;
  for (char& ch : m) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  std::cerr << "openlab: error: " << m << "\n";
  return 1;
}

// At most `limit` bytes of `path`; more is an error.
StatusOr<std::string> ReadSmallFile(const std::string& path, size_t limit, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read {} {}", what, path));
  std::string data(limit + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return NotFound(fmt::format("cannot read {} {}", what, path));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > limit) {
    return InvalidArgument(fmt::format("{} {} is larger than {} bytes", what, path, limit));
  }
  return data;
}

// Where the key came from: the --key file, or the server of the saved login.
struct KeySource {
  std::string where;  // the file, or the URL fetched
  bool fetched = false;
  std::string Describe() const {
    return fetched ? where + ", fetched (--key FILE verifies offline)" : where + ", offline";
  }
};

StatusOr<report::PublicKey> LoadKey(const VerifyArgs& a, KeySource* source) {
  if (!a.key.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(a.key, 64 << 10, "the key file"));
    auto key = report::ParsePublicKey(text);
    if (!key.ok()) return InvalidArgument(a.key + ": " + key.status().message());
    *source = {a.key, false};
    return key;
  }
  client::Client client(client::LoadCredentials());
  std::string url = client.credentials().url + kKeyPath;
  auto r = client.Call("GET", kKeyPath);
  if (!r.ok()) return Unavailable(fmt::format("cannot fetch {}: {}", url, r.status().message()));
  if (r->status != 200) {
    return Unavailable(fmt::format("cannot fetch {}: {}", url, client::ErrorLine(*r)));
  }
  auto key = report::ParsePublicKey(r->body);
  if (!key.ok()) return InvalidArgument(url + ": " + key.status().message());
  *source = {url, true};
  return key;
}

std::string Direction(const std::string& d) {
  return d == "higher_is_better" ? "higher is better" : "lower is better";
}

int Verify(const Output& out, const VerifyArgs& a) {
  auto envelope = ReadSmallFile(a.file, report::kMaxEnvelopeBytes, "the report");
  if (!envelope.ok()) return Fail(envelope.status().message());
  KeySource source;
  auto key = LoadKey(a, &source);
  if (!key.ok()) return Fail(key.status().message());
  auto v = report::VerifyEnvelope(*envelope, *key);
  if (!v.ok()) {
    // Which key was used matters when the signature or its key id is what failed.
    bool about_key =
        v.status().kind() == report::kBadSignature || v.status().kind() == report::kUnknownKey;
    return Fail(about_key ? fmt::format("{}: {} (key from {})", a.file, v.status().message(),
                                        source.Describe())
                          : fmt::format("{}: {}", a.file, v.status().message()));
  }
  const report::ReportContents& c = v->contents;
  if (out.json) {
    json::object o;
    o["verified"] = true;
    o["keyid"] = v->key_id;
    o["key_source"] = source.where;
    o["key_fetched"] = source.fetched;
    o["statement"] = json::parse(v->statement_json);
    PrintJson(o);
    return 0;
  }
  std::cout << fmt::format("verified: signed by {} (key from {})\n", v->key_id, source.Describe());
  std::cout << fmt::format("{:<12}{} ({})\n", "benchmark", c.benchmark_title, c.benchmark_id);
  std::cout << fmt::format("{:<12}{} ({})\n", "phase", c.phase_name, c.phase_id);
  std::cout << fmt::format("{:<12}{}  sha256:{}\n", "submission", c.subject_name, c.subject_sha256);
  for (const report::DatasetRef& d : c.datasets) {
    std::cout << fmt::format("{:<12}{} {}  sha256:{}\n", "dataset", d.role, d.name, d.sha256);
  }
  for (const report::MetricResult& m : c.metrics) {
    std::cout << fmt::format("{:<12}{} = {}  ({}, {}): {}\n", "metric", m.name, m.value, m.split,
                             Direction(m.direction), m.definition);
  }
  std::cout << fmt::format("{:<12}{}\n", "scored at", FormatTime(c.scored_at_ms));
  std::cout << fmt::format("{:<12}{}\n", "issued at", FormatTime(c.issued_at_ms));
  std::cout << fmt::format("{:<12}{} ({}), openlab {}\n", "issued by", c.centre_name, c.centre_url,
                           c.openlab_version);
  return 0;
}

}  // namespace

void AddReportCommands(CLI::App& app, const Output* out, int* exit_code) {
  auto* rep = app.add_subcommand("report", "Signed validation reports of scored submissions");
  rep->require_subcommand(1);
  auto a = std::make_shared<VerifyArgs>();
  auto* verify = rep->add_subcommand(
      "verify", "Check a report's signature and print what it says (offline with --key)");
  verify->add_option("file", a->file, "The report (a DSSE envelope, JSON)")->required();
  verify->add_option("--key", a->key,
                     "The centre's public key: its key document, a PEM or base64 file (no "
                     "network); default: fetched from the server you are logged in to");
  verify->callback([a, out, exit_code] { *exit_code = Verify(*out, *a); });
}

}  // namespace openlab::cli
