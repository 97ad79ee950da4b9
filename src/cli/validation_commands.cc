#include "cli/validation_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/output.h"
#include "cli/table.h"
#include "client/client.h"
#include "client/transfer.h"
#include "common/crypto.h"
#include "common/status.h"
#include "common/strings.h"

namespace openlab::cli {
namespace {

namespace json = boost::json;
using client::Client;
using client::Field;
using client::HttpResult;
using client::IntField;
using client::LoadCredentials;
using client::Text;

using Headers = std::vector<std::pair<std::string, std::string>>;

// The largest spec or patch file read (the server takes far less).
constexpr size_t kMaxSpecBytes = 4 << 20;
// The largest predictions file read: the server's own limit on a submission's body.
constexpr size_t kMaxPredictionsBytes = size_t{1} << 30;

// A path segment from the command line: every byte but the unreserved ones percent-encoded, so
// that a name cannot reach another route.
std::string Seg(const std::string& s) { return PercentEncode(s); }
std::string Query(const std::string& s) { return PercentEncode(s); }

void Finish(int* exit_code, const Status& s) {
  if (s.ok()) {
    *exit_code = 0;
    return;
  }
  std::string m = s.message();
  for (char& ch : m) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  std::cerr << "openlab: error: " << m << "\n";
  *exit_code = 1;
}

// One request; any answer but `want` is an error with the server's problem detail ("what: ..."
// where `what` is given).
StatusOr<HttpResult> Send(const std::string& method, const std::string& path,
                          const std::optional<std::string>& body, int want,
                          const std::string& what = "", const Headers& extra = {}) {
  Client c(LoadCredentials());
  auto r = c.Call(method, path, body, extra);
  if (!r.ok()) return r.status();  // "cannot reach openlab at URL: ..."

  if (r->status != want) return client::ServerError(what, *r);
  return r;
}

// One request with a JSON answer (null for a 204).
StatusOr<json::value> CallJson(const std::string& method, const std::string& path,
                               const std::optional<json::object>& body, int want,
                               const std::string& what = "", const Headers& extra = {}) {
  std::optional<std::string> payload;
  if (body) payload = json::serialize(*body);
  ASSIGN_OR_RETURN(HttpResult r, Send(method, path, payload, want, what, extra));
  if (r.body.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return Internal("the server's answer is not a JSON object");
  return v;
}

// Every item of a paged list (?limit=&cursor=), in order.
StatusOr<json::array> ListAll(const std::string& path, const std::string& what) {
  json::array items;
  std::string cursor;
  const char* sep = path.find('?') == std::string::npos ? "?" : "&";
  for (;;) {
    std::string p = fmt::format("{}{}limit=500", path, sep);
    if (!cursor.empty()) p += "&cursor=" + Query(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson("GET", p, std::nullopt, 200, what));
    const json::value* page = v.as_object().if_contains("items");
    if (page == nullptr || !page->is_array()) {
      return Internal("the server's answer has no list of items");
    }
    for (const auto& x : page->get_array()) items.push_back(x);
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (next == nullptr || !next->is_string() || next->get_string().empty()) break;
    cursor = std::string(next->get_string());
  }
  return items;
}

// The whole of a regular file of at most `limit` bytes (read in pieces: memory follows the file,
// not the limit).
StatusOr<std::string> ReadWholeFile(const std::string& path, size_t limit, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read {} {}: {}", what, path, std::strerror(errno)));
  std::string data;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > limit) {
      return InvalidArgument(fmt::format("{} {} is larger than {} bytes", what, path, limit));
    }
  }
  if (in.bad()) return NotFound(fmt::format("cannot read {} {}", what, path));
  return data;
}

// A JSON object read from a file, with the file named in any error.
StatusOr<json::object> ReadJsonFile(const std::string& path, const char* what) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, kMaxSpecBytes, what));
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument(fmt::format("{} is not valid JSON: {}", path, ec.message()));
  if (!v.is_object()) return InvalidArgument(fmt::format("{} must hold one JSON object", path));
  return std::move(v.as_object());
}

// Writes `bytes` to `path` ("-": standard output). `exclusive`: an existing file is an error.
Status WriteOut(const std::string& path, const std::string& bytes, bool exclusive) {
  if (path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return std::cout ? Status::Ok() : Internal("cannot write to standard output");
  }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return AlreadyExists(fmt::format("{} exists; remove it or name another file with -o", path));
    }
    return Internal(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  for (size_t done = 0; done < bytes.size();) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      return Internal(fmt::format("cannot write {}: {}", path, err));
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) {
    return Internal(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return Status::Ok();
}

// A score as people compare them: six significant digits (--json gives every digit).
std::string Score(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (!v->is_number()) return Text(v);
  return fmt::format("{:.6g}", v->to_number<double>());
}

const json::object& EmptyObject() {
  static const json::object kEmpty;
  return kEmpty;
}

const json::object& Obj(const json::value& v) {
  return v.is_object() ? v.get_object() : EmptyObject();
}

// The member `key` of `o` when it is an object, else an empty object.
const json::object& ObjField(const json::value& o, const char* key) {
  const json::value* v = Obj(o).if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : EmptyObject();
}

const json::array& Arr(const json::value& v, const char* key) {
  static const json::array kEmpty;
  const json::value* a = Obj(v).if_contains(key);
  return a != nullptr && a->is_array() ? a->get_array() : kEmpty;
}

// The benchmark's metric names, the primary first, then in the benchmark's order.
std::vector<std::string> MetricOrder(const json::value& b) {
  std::vector<std::string> out;
  for (bool primary : {true, false}) {
    for (const auto& m : Arr(b, "metrics")) {
      const json::value* p = Obj(m).if_contains("primary");
      bool is_primary = p != nullptr && p->is_bool() && p->get_bool();
      if (is_primary == primary) out.push_back(Field(m, "name"));
    }
  }
  return out;
}

std::string PhaseName(const json::value& b, const std::string& phase_id) {
  for (const auto& p : Arr(b, "phases")) {
    if (Field(p, "id") == phase_id) return Field(p, "name");
  }
  return phase_id;
}

StatusOr<json::value> GetBenchmark(const std::string& ref) {
  return CallJson("GET", "/api/v1/benchmarks/" + Seg(ref), std::nullopt, 200);
}

// ---- benchmark

Status CreateBenchmark(const Output& out, const std::string& file) {
  ASSIGN_OR_RETURN(json::object spec, ReadJsonFile(file, "the spec file"));
  ASSIGN_OR_RETURN(json::value b,
                   CallJson("POST", "/api/v1/benchmarks", spec, 201, "creating the benchmark"));
  if (out.json) {
    PrintJson(b);
  } else {
    std::cout << Field(b, "id") << "\n";
  }
  return Status::Ok();
}

Status ListBenchmarks(const Output& out) {
  ASSIGN_OR_RETURN(json::array items, ListAll("/api/v1/benchmarks", "listing benchmarks"));
  if (out.json) {
    PrintJson(json::object{{"items", std::move(items)}});
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "NAME", "TASK", "VISIBILITY", "PHASES", "TITLE"}};
  for (const auto& b : items) {
    std::string phases;
    for (const auto& p : Arr(b, "phases")) {
      if (!phases.empty()) phases += ',';
      phases += Field(p, "name");
    }
    rows.push_back({Field(b, "id"), Field(b, "name"), Field(b, "task_type"), Field(b, "visibility"),
                    phases.empty() ? "-" : phases, Field(b, "title")});
  }
  PrintRows(rows);
  return Status::Ok();
}

void PrintBenchmark(const json::value& b) {
  std::vector<std::vector<std::string>> head;
  for (const char* k :
       {"id", "name", "title", "task_type", "visibility", "orgs", "project_id", "org_id",
        "public_fraction", "created_by", "created_at", "updated_at", "version"}) {
    const json::value* v = Obj(b).if_contains(k);
    if (v == nullptr) continue;
    if (v->is_array() && v->get_array().empty()) continue;  // orgs: only for "organisations"
    head.push_back({k, v->is_double() ? HumanNumber(v->get_double()) : Text(v)});
  }
  PrintRows(head);
  std::cout << "\nphases\n";
  std::vector<std::vector<std::string>> phases{
      {"NAME", "STARTS_AT", "ENDS_AT", "INPUT", "TRUTH", "TRUTH_FILE"}};
  for (const auto& p : Arr(b, "phases")) {
    std::string input = Field(p, "input_dataset_id");
    input = input.empty() || input == "-" ? "-" : input + "@" + Field(p, "input_version_id");
    phases.push_back({Field(p, "name"), Field(p, "starts_at"), Field(p, "ends_at"), input,
                      Field(p, "truth_dataset_id") + "@" + Field(p, "truth_version_id"),
                      Field(p, "truth_file")});
  }
  PrintRows(phases);
  std::cout << "\nmetrics\n";
  std::vector<std::vector<std::string>> metrics{{"NAME", "PRIMARY", "BETTER", "DEFINITION"}};
  for (const auto& m : Arr(b, "metrics")) {
    const json::value* hib = Obj(m).if_contains("higher_is_better");
    const json::value* p = Obj(m).if_contains("primary");
    metrics.push_back({Field(m, "name"), p != nullptr && p->is_bool() && p->get_bool() ? "yes" : "",
                       hib != nullptr && hib->is_bool() && !hib->get_bool() ? "lower" : "higher",
                       Field(m, "definition")});
  }
  PrintRows(metrics);
  std::cout << "\nrules\n";
  const json::value* rules = Obj(b).if_contains("rules");
  std::vector<std::vector<std::string>> r;
  if (rules != nullptr && rules->is_object()) {
    for (const auto& kv : rules->get_object()) {
      r.push_back({std::string(kv.key()), Text(&kv.value())});
    }
  }
  PrintRows(r);
  std::string description = Field(b, "description");
  if (!description.empty() && description != "-") std::cout << "\n" << description << "\n";
}

Status ShowBenchmark(const Output& out, const std::string& ref) {
  ASSIGN_OR_RETURN(json::value b, GetBenchmark(ref));
  if (out.json) {
    PrintJson(b);
  } else {
    PrintBenchmark(b);
  }
  return Status::Ok();
}

Status EditBenchmark(const Output& out, const std::string& ref, const std::string& file) {
  ASSIGN_OR_RETURN(json::object patch, ReadJsonFile(file, "the patch file"));
  ASSIGN_OR_RETURN(json::value current, GetBenchmark(ref));
  // The version read is the one edited: a change made by someone else meanwhile is a 412, not
  // silently overwritten.
  std::string version = std::to_string(IntField(current, "version"));
  ASSIGN_OR_RETURN(json::value b,
                   CallJson("PATCH", "/api/v1/benchmarks/" + Seg(ref), patch, 200,
                            "editing the benchmark", {{"If-Match", "\"" + version + "\""}}));
  if (out.json) {
    PrintJson(b);
    return Status::Ok();
  }
  std::cout << fmt::format("updated benchmark {} to version {}\n", Field(b, "name"),
                           IntField(b, "version"));
  for (const auto& id : Arr(b, "truth_changed")) {
    std::string phase = PhaseName(b, std::string(id.is_string() ? id.get_string() : ""));
    std::cout << fmt::format(
        "the ground truth of phase {} is a new version: its scores are stale; re-score them with "
        "`openlab benchmark rescore {} --phase {}`\n",
        phase, Field(b, "name"), phase);
  }
  return Status::Ok();
}

Status Invite(const Output& out, const std::string& ref, const std::string& user) {
  RETURN_IF_ERROR(CallJson("POST", "/api/v1/benchmarks/" + Seg(ref) + "/invites",
                           json::object{{"user", user}}, 204, "inviting " + user)
                      .status());
  if (out.json) {
    PrintJson(json::object{{"benchmark", ref}, {"user", user}, {"invited", true}});
  } else {
    std::cout << fmt::format("invited {} to benchmark {}\n", user, ref);
  }
  return Status::Ok();
}

Status RescoreBenchmark(const Output& out, const std::string& ref, const std::string& phase) {
  json::object body;
  if (!phase.empty()) body["phase"] = phase;
  ASSIGN_OR_RETURN(json::value r, CallJson("POST", "/api/v1/benchmarks/" + Seg(ref) + "/rescore",
                                           body, 200, "re-scoring"));
  if (out.json) {
    PrintJson(r);
    return Status::Ok();
  }
  std::string name = Field(r, "phase_id");
  if (auto b = GetBenchmark(ref); b.ok()) name = PhaseName(*b, name);
  std::cout << fmt::format("queued {} submission(s) of phase {} to be scored again\n",
                           IntField(r, "queued"), name);
  return Status::Ok();
}

void PrintTeams(const json::array& teams) {
  std::vector<std::vector<std::string>> rows{{"ID", "NAME", "MEMBERS", "CREATED_BY", "CREATED_AT"}};
  for (const auto& t : teams) {
    rows.push_back({Field(t, "id"), Field(t, "name"), Field(t, "members"), Field(t, "created_by"),
                    Field(t, "created_at")});
  }
  PrintRows(rows);
}

Status CreateTeam(const Output& out, const std::string& ref, const std::string& name) {
  ASSIGN_OR_RETURN(json::value t, CallJson("POST", "/api/v1/benchmarks/" + Seg(ref) + "/teams",
                                           json::object{{"name", name}}, 201, "forming the team"));
  if (out.json) {
    PrintJson(t);
  } else {
    std::cout << Field(t, "id") << "\n";
  }
  return Status::Ok();
}

Status AddTeamMember(const Output& out, const std::string& team, const std::string& user) {
  ASSIGN_OR_RETURN(json::value t,
                   CallJson("POST", "/api/v1/teams/" + Seg(team) + "/members",
                            json::object{{"user", user}}, 200, "adding " + user + " to the team"));
  if (out.json) {
    PrintJson(t);
  } else {
    std::cout << fmt::format("added {} to team {} ({} members)\n", user, Field(t, "name"),
                             Arr(t, "members").size());
  }
  return Status::Ok();
}

Status ListTeams(const Output& out, const std::string& ref) {
  ASSIGN_OR_RETURN(json::array teams,
                   ListAll("/api/v1/benchmarks/" + Seg(ref) + "/teams", "listing the teams"));
  if (out.json) {
    PrintJson(json::object{{"items", std::move(teams)}});
  } else {
    PrintTeams(teams);
  }
  return Status::Ok();
}

// ---- submissions

bool Terminal(const std::string& state) {
  return state == "scored" || state == "failed" || state == "cancelled" || state == "invalid";
}

// The scores of a submission, one row per metric: public and private side by side.
void PrintScores(const json::value& s, const std::vector<std::string>& order) {
  const json::object& po = ObjField(s, "scores_public");
  const json::object& qo = ObjField(s, "scores_private");
  // null: the private scores are shown once the phase has ended.
  const json::value* priv = Obj(s).if_contains("scores_private");
  if (po.empty() && qo.empty()) return;
  std::vector<std::string> names = order;
  for (const json::object* o : {&po, &qo}) {
    for (const auto& kv : *o) {
      std::string k(kv.key());
      if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
    }
  }
  std::vector<std::vector<std::string>> rows{{"METRIC", "PUBLIC", "PRIVATE"}};
  for (const auto& n : names) {
    if (!po.contains(n) && !qo.contains(n)) continue;
    rows.push_back(
        {n, Score(po.if_contains(n)),
         priv == nullptr || priv->is_null() ? "(when the phase ends)" : Score(qo.if_contains(n))});
  }
  PrintRows(rows);
}

void PrintSubmission(const json::value& s, const json::value* benchmark) {
  std::vector<std::vector<std::string>> head;
  for (const char* k : {"id", "benchmark_id", "phase_id", "user_id", "team_id", "kind", "format",
                        "description", "rows", "size", "sha256", "state", "reason", "counted",
                        "attempts", "truth_version_id", "created_at", "scored_at"}) {
    const json::value* v = Obj(s).if_contains(k);
    if (v == nullptr) continue;
    std::string text = Text(v);
    if (text.empty()) continue;  // no team, no reason, no description
    if (benchmark != nullptr && std::string(k) == "phase_id") {
      text = PhaseName(*benchmark, text) + " (" + text + ")";
    }
    head.push_back({k, text});
  }
  PrintRows(head);
  std::vector<std::string> order;
  if (benchmark != nullptr) order = MetricOrder(*benchmark);
  if (!ObjField(s, "scores_public").empty() || !ObjField(s, "scores_private").empty()) {
    std::cout << "\nscores\n";
    PrintScores(s, order);
  }
  std::cout << "\nhistory\n";
  std::vector<std::vector<std::string>> events{{"AT", "STATE", "NOTE"}};
  for (const auto& e : Arr(s, "events")) {
    std::string note = Field(e, "note");
    events.push_back({Field(e, "at"), Field(e, "state"), note.empty() ? "-" : note});
  }
  PrintRows(events);
}

struct SubmitArgs {
  std::string benchmark, predictions, phase, format, description;
  std::string code, entry;  // a code submission: the directory and the command that predicts
  bool wait = false;
  int timeout = 600;
};

// ---- code submissions

// The most files a code submission holds (the server's limit, validation/code_tree.h).
constexpr size_t kMaxCodeFiles = 10000;
// The most bytes of code read: base64 makes them 4/3 as many, within the server's body limit.
constexpr size_t kMaxCodeBytes = kMaxPredictionsBytes / 4 * 3;

// Standard base64 (RFC 4648 section 4, with padding), as the server reads a code file.
std::string Base64(std::string_view data) {
  if (sodium_init() < 0) std::abort();
  size_t len = sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // drop the terminating NUL
  return out;
}

// What a directory entry that is not a regular file or a directory is, for the error.
const char* KindOf(std::filesystem::file_type t) {
  switch (t) {
    case std::filesystem::file_type::symlink:
      return "a symbolic link";
    case std::filesystem::file_type::fifo:
      return "a named pipe";
    case std::filesystem::file_type::socket:
      return "a socket";
    case std::filesystem::file_type::block:
    case std::filesystem::file_type::character:
      return "a device";
    default:
      return "not a regular file";
  }
}

// The body of a code submission: {"entry": CMD, "files": {"relative/path": "<base64>"}} with
// every regular file under `dir`, in path order. Refuses (naming it) a symbolic link or any
// entry that is neither a file nor a directory, rather than leave it out; directories holding
// no file are not sent (the format has files only).
StatusOr<std::string> CodeBody(const std::string& dir, const std::string& entry) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status top = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(top)) {
    return NotFound(fmt::format("cannot read the code directory {}: {}", dir,
                                ec ? ec.message() : "No such file or directory"));
  }
  if (!fs::is_directory(top)) {
    return InvalidArgument(fmt::format("--code {}: {} is {}, not a directory", dir, dir,
                                       fs::is_symlink(top) ? "a symbolic link" : "a file"));
  }
  std::map<std::string, std::string> files;  // relative path -> bytes
  size_t total = 0;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    std::string rel = it->path().lexically_relative(dir).generic_string();
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) {
      return InvalidArgument(fmt::format(
          "{} is {}; a code submission takes regular files only: {}",
          (fs::path(dir) / rel).string(), KindOf(st.type()),
          fs::is_symlink(st) ? "copy in what it points to, or remove it" : "remove it"));
    }
    if (files.size() == kMaxCodeFiles) {
      return InvalidArgument(
          fmt::format("{} holds more than {} files; a code submission takes at most {}", dir,
                      kMaxCodeFiles, kMaxCodeFiles));
    }
    if (rel.find('\\') != std::string::npos) {
      return InvalidArgument(fmt::format("{}: a file name with a backslash is not taken",
                                         (fs::path(dir) / rel).string()));
    }
    ASSIGN_OR_RETURN(std::string bytes,
                     ReadWholeFile((fs::path(dir) / rel).string(), kMaxCodeBytes, "the code file"));
    total += bytes.size();
    if (total > kMaxCodeBytes) {
      return InvalidArgument(
          fmt::format("the code in {} is larger than {} bytes in all", dir, kMaxCodeBytes));
    }
    files.emplace(std::move(rel), std::move(bytes));
  }
  if (ec) return NotFound(fmt::format("cannot read the code directory {}: {}", dir, ec.message()));
  if (files.empty()) {
    return InvalidArgument(fmt::format("the code directory {} holds no files", dir));
  }
  json::object out_files;
  for (auto& [path, bytes] : files) {
    out_files[path] = Base64(bytes);
    std::string().swap(bytes);  // the base64 copy is what is kept
  }
  return json::serialize(json::object{{"entry", entry}, {"files", std::move(out_files)}});
}

// csv, jsonl or json (a detection task's COCO results array): as --format says, else from the
// file's name.
StatusOr<std::string> FormatOf(const SubmitArgs& a) {
  if (!a.format.empty()) return a.format;
  auto ends = [&](std::string_view suffix) {
    std::string lower = a.predictions;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.size() >= suffix.size() &&
           lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".csv")) return std::string("csv");
  if (ends(".jsonl") || ends(".ndjson")) return std::string("jsonl");
  if (ends(".json")) return std::string("json");
  return InvalidArgument(fmt::format(
      "cannot tell the format of {} from its name (.csv, .jsonl, .ndjson or .json): give "
      "--format csv, jsonl or json",
      a.predictions));
}

// Follows a submission until it ends (or `timeout_s` passes); returns its last state.
StatusOr<json::value> WaitForEnd(const std::string& id, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  auto pause = std::chrono::milliseconds(200);
  for (;;) {
    ASSIGN_OR_RETURN(json::value s, CallJson("GET", "/api/v1/submissions/" + Seg(id), std::nullopt,
                                             200, "following submission " + id));
    std::string state = Field(s, "state");
    if (Terminal(state)) return s;
    if (std::chrono::steady_clock::now() + pause > deadline) {
      return Unavailable(fmt::format(
          "submission {} is still {} after {} s; follow it with `openlab submission show {}`", id,
          state, timeout_s, id));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

// What a submission that did not end scored is an error of: its state and reason.
Status EndedUnscored(const json::value& s) {
  std::string state = Field(s, "state");
  if (state == "scored") return Status::Ok();
  std::string reason = Field(s, "reason");
  return FailedPrecondition(fmt::format("submission {} ended {}{}", Field(s, "id"), state,
                                        reason.empty() || reason == "-" ? "" : ": " + reason));
}

// The arguments' one meaning: a predictions file, or code with its entry command.
Status CheckSubmitArgs(const SubmitArgs& a) {
  bool code = !a.code.empty();
  if (code && !a.predictions.empty()) {
    return InvalidArgument("give --predictions FILE or --code DIR, not both");
  }
  if (!code && a.predictions.empty()) {
    return InvalidArgument("give --predictions FILE, or --code DIR with --entry CMD");
  }
  if (!code && !a.entry.empty()) return InvalidArgument("--entry goes with --code DIR");
  if (code && !a.format.empty()) {
    return InvalidArgument(
        "--format is for a predictions file; code writes predictions.csv or "
        "predictions.jsonl");
  }
  return Status::Ok();
}

Status Submit(const Output& out, const SubmitArgs& a) {
  RETURN_IF_ERROR(CheckSubmitArgs(a));
  std::string bytes, path, type, what;
  if (!a.code.empty()) {
    ASSIGN_OR_RETURN(bytes, CodeBody(a.code, a.entry));
    path = fmt::format("/api/v1/benchmarks/{}/submissions?kind=code", Seg(a.benchmark));
    type = "application/json";
    what = "submitting the code in " + a.code;
  } else {
    ASSIGN_OR_RETURN(std::string format, FormatOf(a));
    ASSIGN_OR_RETURN(bytes,
                     ReadWholeFile(a.predictions, kMaxPredictionsBytes, "the predictions file"));
    if (bytes.empty()) {
      return InvalidArgument(fmt::format("the predictions file {} is empty", a.predictions));
    }
    path = fmt::format("/api/v1/benchmarks/{}/submissions?format={}", Seg(a.benchmark), format);
    type = format == "jsonl"  ? "application/x-ndjson"
           : format == "json" ? "application/json"
                              : "text/csv";
    what = "submitting " + a.predictions;
  }
  if (!a.phase.empty()) path += "&phase=" + Query(a.phase);
  if (!a.description.empty()) path += "&description=" + Query(a.description);
  ASSIGN_OR_RETURN(HttpResult r, Send("POST", path, bytes, 201, what, {{"Content-Type", type}}));
  boost::system::error_code ec;
  json::value s = json::parse(r.body, ec);
  if (ec || !s.is_object()) return Internal("the server's answer is not a JSON object");
  std::string id = Field(s, "id");
  if (!a.wait) {
    if (out.json) {
      PrintJson(s);
    } else {
      std::cout << fmt::format("{}  {}\n", id, Field(s, "state"));
    }
    return Status::Ok();
  }
  if (!out.json) std::cerr << fmt::format("openlab: submitted {}; waiting for its scores\n", id);
  ASSIGN_OR_RETURN(s, WaitForEnd(id, a.timeout));
  if (out.json) {
    PrintJson(s);
  } else {
    std::cout << fmt::format("{}  {}\n", id, Field(s, "state"));
    auto b = GetBenchmark(a.benchmark);
    PrintScores(s, b.ok() ? MetricOrder(*b) : std::vector<std::string>{});
  }
  Status ended = EndedUnscored(s);
  if (!ended.ok() && Field(s, "kind") == "code") {
    return Status(ended.code(), fmt::format("{}; what it printed: `openlab submission log {}`",
                                            ended.message(), id));
  }
  return ended;
}

// A code submission's log: the tails of its run's stdout and stderr, as the server keeps them.
Status SubmissionLog(const std::string& id) {
  ASSIGN_OR_RETURN(HttpResult r, Send("GET", "/api/v1/submissions/" + Seg(id) + "/log",
                                      std::nullopt, 200, "reading the log of submission " + id));
  std::cout << r.body;
  if (!r.body.empty() && r.body.back() != '\n') std::cout << "\n";
  std::cout.flush();
  return Status::Ok();
}

struct ListSubmissionArgs {
  std::string benchmark, phase;
  bool mine = false;
};

Status ListSubmissions(const Output& out, const ListSubmissionArgs& a) {
  std::string path = "/api/v1/benchmarks/" + Seg(a.benchmark) + "/submissions";
  std::vector<std::string> query;
  if (!a.phase.empty()) query.push_back("phase=" + Query(a.phase));
  if (a.mine) query.push_back("mine=true");
  for (size_t i = 0; i < query.size(); ++i) path += (i == 0 ? "?" : "&") + query[i];
  ASSIGN_OR_RETURN(json::array items, ListAll(path, "listing submissions"));
  if (out.json) {
    PrintJson(json::object{{"items", std::move(items)}});
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(json::value b, GetBenchmark(a.benchmark));
  std::vector<std::string> order = MetricOrder(b);
  std::string primary = order.empty() ? "SCORE" : order.front();
  std::string header = primary;
  for (char& c : header) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::vector<std::string>> rows{
      {"ID", "PHASE", "USER", "STATE", header, "COUNTED", "CREATED_AT", "DESCRIPTION"}};
  for (const auto& s : items) {
    const json::value* score = ObjField(s, "scores_public").if_contains(primary);
    const json::value* counted = Obj(s).if_contains("counted");
    std::string description = Field(s, "description");
    rows.push_back({Field(s, "id"), PhaseName(b, Field(s, "phase_id")), Field(s, "user_id"),
                    Field(s, "state"), Score(score),
                    counted != nullptr && counted->is_bool() && counted->get_bool() ? "yes" : "no",
                    Field(s, "created_at"), description.empty() ? "-" : description});
  }
  PrintRows(rows);
  return Status::Ok();
}

Status ShowSubmission(const Output& out, const std::string& id) {
  ASSIGN_OR_RETURN(json::value s,
                   CallJson("GET", "/api/v1/submissions/" + Seg(id), std::nullopt, 200));
  if (out.json) {
    PrintJson(s);
    return Status::Ok();
  }
  auto b = GetBenchmark(Field(s, "benchmark_id"));
  PrintSubmission(s, b.ok() ? &*b : nullptr);
  return Status::Ok();
}

Status ChangeSubmission(const Output& out, const std::string& id, const char* action,
                        const char* what) {
  ASSIGN_OR_RETURN(json::value s,
                   CallJson("POST", fmt::format("/api/v1/submissions/{}/{}", Seg(id), action),
                            std::nullopt, 200, fmt::format("{} submission {}", what, id)));
  if (out.json) {
    PrintJson(s);
  } else {
    std::cout << fmt::format("{}  {}\n", Field(s, "id"), Field(s, "state"));
  }
  return Status::Ok();
}

// ---- leaderboards

struct LeaderboardArgs {
  std::string benchmark, phase, split, metric, csv;
};

std::string BoardQuery(const LeaderboardArgs& a) {
  std::string q;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) q += fmt::format("&{}={}", k, Query(v));
  };
  add("phase", a.phase);
  add("split", a.split);
  add("metric", a.metric);
  return q;
}

Status Leaderboard(const Output& out, const LeaderboardArgs& a) {
  std::string base = "/api/v1/benchmarks/" + Seg(a.benchmark) + "/leaderboard";
  if (!a.csv.empty()) {
    ASSIGN_OR_RETURN(HttpResult r, Send("GET", base + "?format=csv" + BoardQuery(a), std::nullopt,
                                        200, "exporting the leaderboard"));
    RETURN_IF_ERROR(WriteOut(a.csv, r.body, false));
    if (a.csv != "-") {
      int64_t rows = std::count(r.body.begin(), r.body.end(), '\n');
      if (out.json) {
        PrintJson(json::object{{"file", a.csv},
                               {"entrants", std::max<int64_t>(rows - 1, 0)},
                               {"bytes", r.body.size()},
                               {"sha256", Sha256Hex(r.body)}});
      } else {
        std::cout << fmt::format("wrote {} ({} entrants, {} bytes)\n", a.csv,
                                 std::max<int64_t>(rows - 1, 0), r.body.size());
      }
    }
    return Status::Ok();
  }
  // Every page, in rank order.
  json::value board;
  json::array items;
  int64_t offset = 0;
  for (;;) {
    ASSIGN_OR_RETURN(
        json::value page,
        CallJson("GET", fmt::format("{}?limit=1000&offset={}{}", base, offset, BoardQuery(a)),
                 std::nullopt, 200, "reading the leaderboard"));
    for (const auto& x : Arr(page, "items")) items.push_back(x);
    board = page;
    const json::value* next = Obj(page).if_contains("next_offset");
    if (next == nullptr || !next->is_int64() || next->get_int64() <= offset) break;
    offset = next->get_int64();
  }
  board.as_object()["items"] = items;
  board.as_object()["offset"] = 0;
  board.as_object()["next_offset"] = nullptr;
  if (out.json) {
    PrintJson(board);
    return Status::Ok();
  }
  std::vector<std::string> metrics;
  if (auto b = GetBenchmark(a.benchmark); b.ok()) metrics = MetricOrder(*b);
  for (const auto& x : items) {
    for (const auto& kv : ObjField(x, "scores")) {
      std::string k(kv.key());
      if (std::find(metrics.begin(), metrics.end(), k) == metrics.end()) metrics.push_back(k);
    }
  }
  const json::value* hib = Obj(board).if_contains("higher_is_better");
  const json::value* ended = Obj(board).if_contains("phase_ended");
  std::cout << fmt::format(
      "phase {}, {} split, ranked by {} ({} is better){}; {} entrant(s)\n", Field(board, "phase"),
      Field(board, "split"), Field(board, "metric"),
      hib != nullptr && hib->is_bool() && !hib->get_bool() ? "lower" : "higher",
      ended != nullptr && ended->is_bool() && ended->get_bool() ? ", the phase has ended" : "",
      IntField(board, "total"));
  std::vector<std::string> header{"RANK", "NAME", "SCORE"};
  for (const auto& m : metrics) {
    std::string h = m;
    for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    header.push_back(h);
  }
  header.push_back("SUBMISSION");
  header.push_back("SUBMITTED_AT");
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& x : items) {
    std::vector<std::string> row{Field(x, "rank"), Field(x, "name"),
                                 Score(Obj(x).if_contains("score"))};
    for (const auto& m : metrics) row.push_back(Score(ObjField(x, "scores").if_contains(m)));
    row.push_back(Field(x, "submission_id"));
    row.push_back(Field(x, "submitted_at"));
    rows.push_back(std::move(row));
  }
  PrintRows(rows);
  return Status::Ok();
}

// ---- reports

struct ReportArgs {
  std::string submission, file;
};

Status CreateReport(const Output& out, const ReportArgs& a) {
  ASSIGN_OR_RETURN(json::value rep,
                   CallJson("POST", "/api/v1/submissions/" + Seg(a.submission) + "/reports",
                            std::nullopt, 201, "creating the report"));
  std::string id = Field(rep, "id");
  // The envelope's own bytes, as the server keeps them: what `openlab report verify` checks.
  ASSIGN_OR_RETURN(HttpResult env, Send("GET", "/api/v1/reports/" + Seg(id) + "/envelope",
                                        std::nullopt, 200, "reading report " + id));
  std::string digest = Field(rep, "sha256");
  if (Sha256Hex(env.body) != digest) {
    return Internal(
        fmt::format("report {}: the envelope received does not match its SHA-256 {}", id, digest));
  }
  std::string file = a.file.empty() ? "report-" + id + ".json" : a.file;
  RETURN_IF_ERROR(WriteOut(file, env.body, true));
  if (file == "-") return Status::Ok();
  if (out.json) {
    json::object o = Obj(rep);
    o.erase("envelope");
    o["file"] = file;
    o["bytes"] = env.body.size();
    PrintJson(o);
  } else {
    std::cout << fmt::format(
        "wrote {} (report {} of submission {}, {} bytes); check it with `openlab report verify "
        "{}`\n",
        file, id, a.submission, env.body.size(), file);
  }
  return Status::Ok();
}

// A submission's reports, oldest first (the API pages them in id order).
Status ListReports(const Output& out, const std::string& submission) {
  ASSIGN_OR_RETURN(json::array items, ListAll("/api/v1/submissions/" + Seg(submission) + "/reports",
                                              "listing the reports"));
  std::stable_sort(items.begin(), items.end(), [](const json::value& a, const json::value& b) {
    return Field(a, "created_at") < Field(b, "created_at");
  });
  if (out.json) {
    PrintJson(json::object{{"items", std::move(items)}});
    return Status::Ok();
  }
  if (items.empty()) {
    std::cout << fmt::format(
        "submission {} has no reports; `openlab report create {}` issues one\n", submission,
        submission);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows{{"ID", "CREATED_AT", "SHA256"}};
  for (const auto& r : items) {
    rows.push_back({Field(r, "id"), Field(r, "created_at"), Field(r, "sha256")});
  }
  PrintRows(rows);
  return Status::Ok();
}

CLI::App* ReportCommand(CLI::App& app) {
  try {
    return app.get_subcommand("report");
  } catch (const CLI::OptionNotFound&) {
    auto* rep = app.add_subcommand("report", "Signed validation reports of scored submissions");
    rep->require_subcommand(1);
    return rep;
  }
}

}  // namespace

void AddValidationCommands(CLI::App& app, const Output* out, int* exit_code) {
  // ---- openlab benchmark
  auto* bench = app.add_subcommand(
      "benchmark", "Benchmarks: publish, show, edit, invite, re-score; teams of participants");
  bench->require_subcommand(1);

  auto spec = std::make_shared<std::string>();
  auto* create = bench->add_subcommand(
      "create", "Publish a benchmark from a JSON spec file (the API's body); prints its id");
  create->add_option("--file,-f", *spec, "The spec: a JSON object (docs/validation.md)")
      ->required();
  create->callback([spec, out, exit_code] { Finish(exit_code, CreateBenchmark(*out, *spec)); });

  bench->add_subcommand("ls", "Benchmarks you may see")->callback([out, exit_code] {
    Finish(exit_code, ListBenchmarks(*out));
  });

  auto show = std::make_shared<std::string>();
  auto* sh = bench->add_subcommand(
      "show", "A benchmark: its phases and their dataset versions, metrics, rules");
  sh->add_option("benchmark", *show, "Benchmark name or id")->required();
  sh->callback([show, out, exit_code] { Finish(exit_code, ShowBenchmark(*out, *show)); });

  auto edit = std::make_shared<std::array<std::string, 2>>();
  auto* ed = bench->add_subcommand(
      "edit", "Change a benchmark from a JSON patch file (submissions are kept; organisers)");
  ed->add_option("benchmark", (*edit)[0], "Benchmark name or id")->required();
  ed->add_option("--file,-f", (*edit)[1],
                 "The patch: title, description, visibility, orgs, rules, phases (by name)")
      ->required();
  ed->callback(
      [edit, out, exit_code] { Finish(exit_code, EditBenchmark(*out, (*edit)[0], (*edit)[1])); });

  auto invite = std::make_shared<std::array<std::string, 2>>();
  auto* inv = bench->add_subcommand("invite", "Invite a user to take part (organisers)");
  inv->add_option("benchmark", (*invite)[0], "Benchmark name or id")->required();
  inv->add_option("user", (*invite)[1], "Username or user id")->required();
  inv->callback(
      [invite, out, exit_code] { Finish(exit_code, Invite(*out, (*invite)[0], (*invite)[1])); });

  auto rescore = std::make_shared<std::array<std::string, 2>>();
  auto* rs = bench->add_subcommand(
      "rescore", "Score a phase's scored and failed submissions again (organisers)");
  rs->add_option("benchmark", (*rescore)[0], "Benchmark name or id")->required();
  rs->add_option("--phase", (*rescore)[1], "Phase name or id (default: the current phase)");
  rs->callback([rescore, out, exit_code] {
    Finish(exit_code, RescoreBenchmark(*out, (*rescore)[0], (*rescore)[1]));
  });

  auto* team = bench->add_subcommand("team", "Teams: one leaderboard entry for several people");
  team->require_subcommand(1);
  auto tc = std::make_shared<std::array<std::string, 2>>();
  auto* tcc = team->add_subcommand("create", "Form a team (you its first member); prints its id");
  tcc->add_option("benchmark", (*tc)[0], "Benchmark name or id")->required();
  tcc->add_option("name", (*tc)[1], "The team's name on the leaderboard")->required();
  tcc->callback([tc, out, exit_code] { Finish(exit_code, CreateTeam(*out, (*tc)[0], (*tc)[1])); });
  auto ta = std::make_shared<std::array<std::string, 2>>();
  auto* tac = team->add_subcommand("add", "Add a participant of the benchmark to your team");
  tac->add_option("team", (*ta)[0], "Team id")->required();
  tac->add_option("user", (*ta)[1], "Username or user id")->required();
  tac->callback(
      [ta, out, exit_code] { Finish(exit_code, AddTeamMember(*out, (*ta)[0], (*ta)[1])); });
  auto tl = std::make_shared<std::string>();
  auto* tlc = team->add_subcommand("ls", "A benchmark's teams and their members");
  tlc->add_option("benchmark", *tl, "Benchmark name or id")->required();
  tlc->callback([tl, out, exit_code] { Finish(exit_code, ListTeams(*out, *tl)); });

  // ---- openlab submit
  auto submit = std::make_shared<SubmitArgs>();
  auto* sub = app.add_subcommand(
      "submit",
      "Submit a predictions file, or code the centre runs, to a benchmark; prints its "
      "id and state");
  sub->add_option("benchmark", submit->benchmark, "Benchmark name or id")->required();
  sub->add_option("--predictions,-p", submit->predictions,
                  "The predictions file: CSV with a header, or JSON lines");
  sub->add_option("--code", submit->code,
                  "A directory of code, every file sent, run in the sandbox on the phase's inputs "
                  "(benchmarks whose rules take code)");
  sub->add_option("--entry", submit->entry,
                  "With --code: the command, run in the code's directory, that writes "
                  "$OPENLAB_OUTPUT/predictions.csv (or .jsonl), e.g. \"python3 predict.py\"; "
                  "left out where the phase's ingestion program runs the code");
  sub->add_option("--phase", submit->phase, "Phase name or id (default: the open phase)");
  sub->add_option("--format", submit->format,
                  "csv, jsonl or json (a detection task's COCO results; default: from the file's "
                  "name: .csv, .jsonl, .ndjson, .json)")
      ->check(CLI::IsMember({"csv", "jsonl", "json"}));
  sub->add_option("--description", submit->description, "What this submission is (500 chars)");
  sub->add_flag("--wait", submit->wait, "Wait until it is scored and print the scores");
  sub->add_option("--timeout", submit->timeout, "Seconds --wait waits at most (default 600)")
      ->check(CLI::Range(1, 86400));
  sub->callback([submit, out, exit_code] { Finish(exit_code, Submit(*out, *submit)); });

  // ---- openlab submission
  auto* subs =
      app.add_subcommand("submission", "Submissions: list, show, cancel, re-score, a run's log");
  subs->require_subcommand(1);
  auto sl = std::make_shared<ListSubmissionArgs>();
  auto* slc = subs->add_subcommand(
      "ls", "Your and your team's submissions to a benchmark (organisers: everyone's)");
  slc->add_option("benchmark", sl->benchmark, "Benchmark name or id")->required();
  slc->add_option("--phase", sl->phase, "Only this phase's (name or id)");
  slc->add_flag("--mine", sl->mine, "Only yours and your team's (for organisers)");
  slc->callback([sl, out, exit_code] { Finish(exit_code, ListSubmissions(*out, *sl)); });
  auto ss = std::make_shared<std::string>();
  auto* ssc = subs->add_subcommand(
      "show", "A submission: its state history with times, scores (public, private), reason");
  ssc->add_option("id", *ss, "Submission id")->required();
  ssc->callback([ss, out, exit_code] { Finish(exit_code, ShowSubmission(*out, *ss)); });
  auto sc = std::make_shared<std::string>();
  auto* scc = subs->add_subcommand("cancel", "Cancel a submission not yet scored");
  scc->add_option("id", *sc, "Submission id")->required();
  scc->callback([sc, out, exit_code] {
    Finish(exit_code, ChangeSubmission(*out, *sc, "cancel", "cancelling"));
  });
  auto sr = std::make_shared<std::string>();
  auto* src = subs->add_subcommand(
      "rescore", "Score a submission again against its phase's current truth (organisers)");
  src->add_option("id", *sr, "Submission id")->required();
  src->callback([sr, out, exit_code] {
    Finish(exit_code, ChangeSubmission(*out, *sr, "rescore", "re-scoring"));
  });
  auto slog = std::make_shared<std::string>();
  auto* slogc = subs->add_subcommand(
      "log", "What a code submission's run printed: the tails of its stdout and stderr");
  slogc->add_option("id", *slog, "Submission id")->required();
  slogc->callback([slog, exit_code] { Finish(exit_code, SubmissionLog(*slog)); });

  // ---- openlab leaderboard
  auto board = std::make_shared<LeaderboardArgs>();
  auto* lb = app.add_subcommand("leaderboard", "A benchmark's ranking; --csv exports it");
  lb->add_option("benchmark", board->benchmark, "Benchmark name or id")->required();
  lb->add_option("--phase", board->phase, "Phase name or id (default: the current phase)");
  lb->add_option("--split", board->split,
                 "public (default) or private (once the phase has ended; organisers: always)")
      ->check(CLI::IsMember({"public", "private"}));
  lb->add_option("--metric", board->metric, "Rank by this metric (default: the primary one)");
  lb->add_option("--csv", board->csv, "Write the ranking as CSV to this file (- : stdout)");
  lb->callback([board, out, exit_code] { Finish(exit_code, Leaderboard(*out, *board)); });

  // ---- openlab report create
  auto rep = std::make_shared<ReportArgs>();
  auto* rc = ReportCommand(app)->add_subcommand(
      "create", "Have a scored submission's signed report issued and write it to a file");
  rc->add_option("submission", rep->submission, "Submission id")->required();
  rc->add_option("-o,--output", rep->file, "Where to write it (default report-<id>.json)");
  rc->callback([rep, out, exit_code] { Finish(exit_code, CreateReport(*out, *rep)); });

  // ---- openlab report ls
  auto rl = std::make_shared<std::string>();
  auto* rlc = ReportCommand(app)->add_subcommand(
      "ls", "The reports issued of a submission of yours (or your team's), oldest first");
  rlc->add_option("submission", *rl, "Submission id")->required();
  rlc->callback([rl, out, exit_code] { Finish(exit_code, ListReports(*out, *rl)); });
}

}  // namespace openlab::cli
