#include "validation/bundle/bundle.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

namespace openlab::validation::bundle {

namespace {

constexpr size_t kMaxListItems = 1000;
constexpr int kMaxNesting = 32;
constexpr size_t kMaxNameBytes = 1024;
constexpr int kMaxNameDepth = 32;

// --- competition.yaml ----------------------------------------------------------------------

// yaml-cpp recurses once per level of nesting: refuse deep nesting before it parses.
Status CheckNesting(std::string_view text) {
  int depth = 0;
  size_t line_start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      std::string_view line = text.substr(line_start, i - line_start);
      size_t indent = line.find_first_not_of(' ');
      // "- - - x" nests a sequence per dash on one line.
      int dashes = 0;
      for (size_t k = indent == std::string_view::npos ? line.size() : indent;
           k + 1 < line.size() && line[k] == '-' && line[k + 1] == ' '; k += 2) {
        ++dashes;
        while (k + 2 < line.size() && line[k + 2] == ' ') ++k;
      }
      if ((indent != std::string_view::npos && indent > 4 * kMaxNesting) || dashes > kMaxNesting) {
        return InvalidArgument(fmt::format(
            "competition.yaml line {}: nested more than {} levels deep",
            1 + std::count(text.begin(), text.begin() + line_start, '\n'), kMaxNesting));
      }
      line_start = i + 1;
      continue;
    }
    if (text[i] == '[' || text[i] == '{') {
      if (++depth > kMaxNesting) {
        return InvalidArgument(
            fmt::format("competition.yaml line {}: nested more than {} levels deep",
                        1 + std::count(text.begin(), text.begin() + i, '\n'), kMaxNesting));
      }
    } else if ((text[i] == ']' || text[i] == '}') && depth > 0) {
      --depth;
    }
  }
  return Status::Ok();
}

Status YamlError(const YAML::Node& n, const std::string& path, std::string_view what) {
  int line = 0;
  try {
    line = n.Mark().line + 1;
  } catch (const YAML::Exception&) {
  }
  if (line <= 0) return InvalidArgument(fmt::format("competition.yaml: {}: {}", path, what));
  return InvalidArgument(fmt::format("competition.yaml line {}: {}: {}", line, path, what));
}

// Reads one YAML mapping: each known key once; every other key goes to not_imported.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::vector<std::string>* not_imported)
      : node_(node), path_(std::move(path)), not_imported_(not_imported) {}

  // The mapping's checks: a map, scalar keys each once. Unknown keys are noted as not imported.
  Status Check(const std::set<std::string, std::less<>>& known) {
    if (!node_.IsMap()) return YamlError(node_, Name(), "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) return YamlError(kv.first, Name(), "a key that is not text");
      std::string key = kv.first.Scalar();
      if (!seen.insert(key).second) {
        return YamlError(kv.first, Name(), fmt::format("'{}' appears twice", key));
      }
      if (known.count(key) == 0) not_imported_->push_back(Sub(key));
    }
    return Status::Ok();
  }

  std::string Sub(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  std::string Name() const { return path_.empty() ? "the document" : path_; }

  // The value at `key`, or an undefined node when absent or null.
  YAML::Node Get(std::string_view key) const {
    YAML::Node v = node_[std::string(key)];
    if (!v.IsDefined() || v.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    return v;
  }

  StatusOr<std::optional<std::string>> String(std::string_view key, bool required,
                                              size_t max_len = 1000) const {
    YAML::Node v = Get(key);
    if (!v.IsDefined()) {
      if (required) return YamlError(node_, Sub(key), "missing");
      return std::optional<std::string>();
    }
    if (!v.IsScalar()) return YamlError(v, Sub(key), "expected text");
    const std::string& s = v.Scalar();
    if (s.size() > max_len) {
      return YamlError(v, Sub(key), fmt::format("longer than {} bytes", max_len));
    }
    if (s.find('\0') != std::string::npos) return YamlError(v, Sub(key), "a NUL byte");
    if (required && s.empty()) return YamlError(v, Sub(key), "empty");
    return std::optional<std::string>(s);
  }

  StatusOr<std::optional<int64_t>> Int(std::string_view key, bool required, int64_t min,
                                       int64_t max) const {
    YAML::Node v = Get(key);
    if (!v.IsDefined()) {
      if (required) return YamlError(node_, Sub(key), "missing");
      return std::optional<int64_t>();
    }
    return IntOf(v, Sub(key), min, max);
  }

  static StatusOr<std::optional<int64_t>> IntOf(const YAML::Node& v, const std::string& path,
                                                int64_t min, int64_t max) {
    if (!v.IsScalar()) return YamlError(v, path, "expected a whole number");
    const std::string& s = v.Scalar();
    int64_t out = 0;
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i == s.size()) return YamlError(v, path, fmt::format("'{}' is not a whole number", s));
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || out > 1'000'000'000'000) {
        return YamlError(v, path, fmt::format("'{}' is not a whole number", s.substr(0, 40)));
      }
      out = out * 10 + (s[i] - '0');
    }
    if (neg) out = -out;
    if (out < min || out > max) {
      return YamlError(v, path, fmt::format("{} is not in {}..{}", out, min, max));
    }
    return std::optional<int64_t>(out);
  }

  // A sequence of at most kMaxListItems; undefined when absent.
  StatusOr<YAML::Node> List(std::string_view key, bool required) const {
    YAML::Node v = Get(key);
    if (!v.IsDefined()) {
      if (required) return YamlError(node_, Sub(key), "missing");
      return v;
    }
    if (!v.IsSequence()) return YamlError(v, Sub(key), "expected a list");
    if (v.size() > kMaxListItems) {
      return YamlError(v, Sub(key), fmt::format("more than {} items", kMaxListItems));
    }
    if (required && v.size() == 0) return YamlError(v, Sub(key), "empty");
    return v;
  }

  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::string path_;
  std::vector<std::string>* not_imported_;
};

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "YYYY-MM-DD", optionally with " HH:MM[:SS[.fff]]" (or 'T'), optionally with "Z" or "+HH:MM";
// UTC when no offset is written. Epoch milliseconds, or nullopt.
std::optional<int64_t> ParseDate(std::string_view s) {
  auto num = [&](size_t at, size_t len, int64_t& out) {
    if (at + len > s.size()) return false;
    out = 0;
    for (size_t k = at; k < at + len; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      out = out * 10 + (s[k] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!num(0, 4, y) || s.size() < 10 || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' ||
      !num(8, 2, d)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] ||
      (mo == 2 && d == 29 && !leap)) {
    return std::nullopt;
  }
  size_t i = 10;
  if (i < s.size() && (s[i] == ' ' || s[i] == 'T')) {
    if (!num(i + 1, 2, h) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, mi)) {
      return std::nullopt;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!num(i + 1, 2, sec)) return std::nullopt;
      i += 3;
      if (i < s.size() && s[i] == '.') {
        size_t start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return std::nullopt;
        int64_t frac = 0;
        for (size_t k = start; k < start + 3; ++k) frac = frac * 10 + (k < i ? s[k] - '0' : 0);
        ms = frac;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int64_t oh, om;
    if (!num(i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  return secs * 1000 + ms;
}

StatusOr<std::optional<int64_t>> DateAt(const MapReader& r, std::string_view key, bool required) {
  ASSIGN_OR_RETURN(std::optional<std::string> s, r.String(key, required, 64));
  if (!s.has_value()) return std::optional<int64_t>();
  std::optional<int64_t> ms = ParseDate(*s);
  if (!ms.has_value()) {
    return YamlError(r.Get(key), r.Sub(key),
                     fmt::format("'{}' is not a date (write YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], "
                                 "UTC unless an offset such as +09:00 follows)",
                                 *s));
  }
  return std::optional<int64_t>(*ms);
}

// A path in the bundle, as the YAML names it: relative, clean (a leading "./" and a trailing
// '/' are dropped).
StatusOr<std::string> BundlePath(const MapReader& r, std::string_view key, const std::string& s) {
  std::string_view p = s;
  while (p.substr(0, 2) == "./") p.remove_prefix(2);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  bool ok = !p.empty() && p[0] != '/' && p.find('\\') == std::string_view::npos;
  for (size_t i = 0; ok && i <= p.size();) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (c.empty() || c == "." || c == "..") ok = false;
    i = j + 1;
  }
  if (!ok) {
    return YamlError(r.Get(key), r.Sub(key),
                     fmt::format("'{}' is not a path inside the bundle (relative, no '..')", s));
  }
  return std::string(p);
}

Status ReadTask(const YAML::Node& node, const std::string& path, CompetitionSpec& out) {
  MapReader r(node, path, &out.not_imported);
  if (node.IsMap() && node["key"].IsDefined() && !node["index"].IsDefined()) {
    return YamlError(node, path,
                     "a task given by a Codabench server's key: openlab imports only tasks whose "
                     "programs and data are in the bundle");
  }
  RETURN_IF_ERROR(r.Check({"index", "name", "description", "scoring_program", "ingestion_program",
                           "reference_data", "input_data"}));
  CompetitionSpec::TaskRef t;
  ASSIGN_OR_RETURN(auto index, r.Int("index", true, 0, 1000000));
  t.index = *index;
  ASSIGN_OR_RETURN(auto name, r.String("name", true));
  t.name = *name;
  ASSIGN_OR_RETURN(auto description, r.String("description", false, 100000));
  t.description = description.value_or("");
  struct Part {
    const char* key;
    std::string* into;
    bool required;
  };
  for (const Part& p : {Part{"scoring_program", &t.scoring_program, true},
                        Part{"ingestion_program", &t.ingestion_program, false},
                        Part{"reference_data", &t.reference_data, false},
                        Part{"input_data", &t.input_data, false}}) {
    ASSIGN_OR_RETURN(auto v, r.String(p.key, p.required));
    if (v.has_value()) {
      ASSIGN_OR_RETURN(*p.into, BundlePath(r, p.key, *v));
    }
  }
  for (const auto& other : out.tasks) {
    if (other.index == t.index) {
      return YamlError(r.Get("index"), r.Sub("index"),
                       fmt::format("task index {} appears twice", t.index));
    }
  }
  out.tasks.push_back(std::move(t));
  return Status::Ok();
}

Status ReadPhase(const YAML::Node& node, const std::string& path, CompetitionSpec& out) {
  MapReader r(node, path, &out.not_imported);
  RETURN_IF_ERROR(
      r.Check({"index", "name", "description", "start", "end", "max_submissions_per_day",
               "max_submissions", "execution_time_limit", "tasks"}));
  Phase p;
  ASSIGN_OR_RETURN(auto index, r.Int("index", true, 0, 1000000));
  p.index = *index;
  ASSIGN_OR_RETURN(auto name, r.String("name", true));
  p.name = *name;
  ASSIGN_OR_RETURN(auto description, r.String("description", false, 100000));
  p.description = description.value_or("");
  ASSIGN_OR_RETURN(auto start, DateAt(r, "start", true));
  p.start_ms = *start;
  ASSIGN_OR_RETURN(p.end_ms, DateAt(r, "end", false));
  if (p.end_ms.has_value() && *p.end_ms <= p.start_ms) {
    return YamlError(r.Get("end"), r.Sub("end"), "the phase ends before it starts");
  }
  ASSIGN_OR_RETURN(p.max_submissions_per_day, r.Int("max_submissions_per_day", false, 0, 1000000));
  ASSIGN_OR_RETURN(p.max_submissions, r.Int("max_submissions", false, 0, 1000000000));
  ASSIGN_OR_RETURN(p.execution_time_limit_seconds,
                   r.Int("execution_time_limit", false, 1, 30 * 86400));
  ASSIGN_OR_RETURN(YAML::Node tasks, r.List("tasks", true));
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::string tp = fmt::format("{}[{}]", r.Sub("tasks"), i);
    if (!tasks[i].IsScalar()) return YamlError(tasks[i], tp, "expected a task index");
    auto t = MapReader::IntOf(tasks[i], tp, 0, 1000000);
    if (!t.ok()) {
      return YamlError(tasks[i], tp,
                       fmt::format("'{}' is not a task index (a Codabench server's task key is "
                                   "not imported: the task must be in the bundle)",
                                   tasks[i].Scalar().substr(0, 40)));
    }
    p.task_indexes.push_back(**t);
  }
  for (const auto& other : out.phases) {
    if (other.index == p.index) {
      return YamlError(r.Get("index"), r.Sub("index"),
                       fmt::format("phase index {} appears twice", p.index));
    }
  }
  out.phases.push_back(std::move(p));
  return Status::Ok();
}

Status ReadLeaderboard(const YAML::Node& node, const std::string& path, CompetitionSpec& out) {
  MapReader r(node, path, &out.not_imported);
  RETURN_IF_ERROR(r.Check({"title", "key", "columns", "index"}));
  Leaderboard lb;
  ASSIGN_OR_RETURN(auto title, r.String("title", true));
  lb.title = *title;
  ASSIGN_OR_RETURN(auto key, r.String("key", false, 128));
  lb.key = key.value_or(fmt::format("leaderboard{}", out.leaderboards.size()));
  ASSIGN_OR_RETURN(YAML::Node columns, r.List("columns", true));
  std::map<int64_t, std::vector<int64_t>> computed_from;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string cp = fmt::format("{}[{}]", r.Sub("columns"), i);
    MapReader c(columns[i], cp, &out.not_imported);
    RETURN_IF_ERROR(
        c.Check({"title", "key", "index", "sorting", "computation", "computation_indexes"}));
    Column col;
    ASSIGN_OR_RETURN(auto ckey, c.String("key", true, runner::kMaxScoreKeyBytes));
    col.key = *ckey;
    ASSIGN_OR_RETURN(auto ctitle, c.String("title", false));
    col.title = ctitle.value_or(col.key);
    ASSIGN_OR_RETURN(auto index, c.Int("index", false, 0, 1000));
    col.index = index.value_or(static_cast<int64_t>(i));
    ASSIGN_OR_RETURN(auto sorting, c.String("sorting", false, 16));
    std::string sort = sorting.value_or("desc");
    if (sort != "desc" && sort != "asc") {
      return YamlError(c.Get("sorting"), c.Sub("sorting"),
                       fmt::format("'{}' is neither asc nor desc", sort));
    }
    col.higher_is_better = sort == "desc";
    ASSIGN_OR_RETURN(auto computation, c.String("computation", false, 16));
    if (computation.has_value()) {
      col.computation = *computation;
      if (col.computation != "sum" && col.computation != "avg" && col.computation != "min" &&
          col.computation != "max") {
        return YamlError(c.Get("computation"), c.Sub("computation"),
                         fmt::format("'{}' is not sum, avg, min or max", col.computation));
      }
      ASSIGN_OR_RETURN(YAML::Node from, c.List("computation_indexes", true));
      for (size_t k = 0; k < from.size(); ++k) {
        ASSIGN_OR_RETURN(
            auto idx,
            MapReader::IntOf(from[k], fmt::format("{}[{}]", c.Sub("computation_indexes"), k), 0,
                             1000));
        computed_from[col.index].push_back(*idx);
      }
    }
    for (const auto& other : lb.columns) {
      if (other.key == col.key) {
        return YamlError(c.Get("key"), c.Sub("key"),
                         fmt::format("column key '{}' appears twice", col.key));
      }
      if (other.index == col.index) {
        return YamlError(columns[i], cp, fmt::format("column index {} appears twice", col.index));
      }
    }
    lb.columns.push_back(std::move(col));
  }
  std::sort(lb.columns.begin(), lb.columns.end(),
            [](const Column& a, const Column& b) { return a.index < b.index; });
  for (Column& col : lb.columns) {
    for (int64_t idx : computed_from[col.index]) {
      auto it = std::find_if(lb.columns.begin(), lb.columns.end(),
                             [&](const Column& o) { return o.index == idx; });
      if (it == lb.columns.end() || idx == col.index || !it->computation.empty()) {
        return YamlError(node, path,
                         fmt::format("column '{}' computes from index {}, which is not another "
                                     "plain column of this leaderboard",
                                     col.key, idx));
      }
      col.computation_keys.push_back(it->key);
    }
  }
  out.leaderboards.push_back(std::move(lb));
  return Status::Ok();
}

StatusOr<CompetitionSpec> ParseYamlDocument(const YAML::Node& doc) {
  CompetitionSpec out;
  MapReader top(doc, "", &out.not_imported);
  if (!doc.IsMap()) return InvalidArgument("competition.yaml: expected a mapping of keys");
  YAML::Node version = top.Get("version");
  if (version.IsDefined()) {
    if (!version.IsScalar() || (version.Scalar() != "2" && version.Scalar() != "2.0")) {
      return YamlError(version, "version",
                       fmt::format("'{}' is not 2: openlab imports Codabench v2 bundles",
                                   version.IsScalar() ? version.Scalar() : "?"));
    }
  } else if (top.Get("leaderboard").IsDefined() || top.Get("html").IsDefined()) {
    return InvalidArgument(
        "competition.yaml: a CodaLab v1.5 bundle (html, leaderboard): openlab imports Codabench "
        "v2 bundles (version: 2)");
  }
  RETURN_IF_ERROR(top.Check({"version", "title", "description", "docker_image", "pages", "phases",
                             "tasks", "leaderboards"}));
  ASSIGN_OR_RETURN(auto title, top.String("title", true, 500));
  out.title = *title;
  ASSIGN_OR_RETURN(auto summary, top.String("description", false, 100000));
  out.summary = summary.value_or("");
  ASSIGN_OR_RETURN(auto image, top.String("docker_image", false, 500));
  out.docker_image = image.value_or("");

  ASSIGN_OR_RETURN(YAML::Node pages, top.List("pages", false));
  for (size_t i = 0; pages.IsDefined() && i < pages.size(); ++i) {
    MapReader r(pages[i], fmt::format("pages[{}]", i), &out.not_imported);
    RETURN_IF_ERROR(r.Check({"title", "file"}));
    ASSIGN_OR_RETURN(auto ptitle, r.String("title", true));
    ASSIGN_OR_RETURN(auto file, r.String("file", true));
    ASSIGN_OR_RETURN(std::string path, BundlePath(r, "file", *file));
    out.pages.push_back({*ptitle, path});
  }
  ASSIGN_OR_RETURN(YAML::Node tasks, top.List("tasks", true));
  for (size_t i = 0; i < tasks.size(); ++i) {
    RETURN_IF_ERROR(ReadTask(tasks[i], fmt::format("tasks[{}]", i), out));
  }
  ASSIGN_OR_RETURN(YAML::Node phases, top.List("phases", true));
  for (size_t i = 0; i < phases.size(); ++i) {
    RETURN_IF_ERROR(ReadPhase(phases[i], fmt::format("phases[{}]", i), out));
  }
  for (size_t i = 0; i < out.phases.size(); ++i) {
    for (int64_t t : out.phases[i].task_indexes) {
      bool found = std::any_of(out.tasks.begin(), out.tasks.end(),
                               [&](const auto& task) { return task.index == t; });
      if (!found) {
        return YamlError(phases[i]["tasks"], fmt::format("phases[{}].tasks", i),
                         fmt::format("task index {} is not among the tasks", t));
      }
    }
  }
  ASSIGN_OR_RETURN(YAML::Node boards, top.List("leaderboards", true));
  for (size_t i = 0; i < boards.size(); ++i) {
    RETURN_IF_ERROR(ReadLeaderboard(boards[i], fmt::format("leaderboards[{}]", i), out));
  }
  std::sort(out.not_imported.begin(), out.not_imported.end());
  return out;
}

// --- zips -----------------------------------------------------------------------------------

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

struct Budget {
  int64_t bytes_left;
  int64_t files_left;
};

StatusOr<ZipPtr> OpenZip(const std::string& path, const std::string& label) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    return InvalidArgument(fmt::format("{}: not a readable zip file ({})", label, why));
  }
  return ZipPtr(z);
}

// A member of a zip, checked.
struct Member {
  zip_uint64_t index;
  std::string name;  // without a trailing '/'
  bool dir;
  int64_t size;
};

// Every member, each name checked (relative, clean, no backslash, no control character) and each
// kind (file or folder: no link, no device, no fifo), none twice, none encrypted.
StatusOr<std::vector<Member>> ListMembers(zip_t* z, const std::string& label) {
  zip_int64_t n = zip_get_num_entries(z, 0);
  if (n < 0) return InvalidArgument(label + ": cannot list its members");
  std::vector<Member> out;
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* raw = zip_get_name(z, i, ZIP_FL_ENC_RAW);
    if (raw == nullptr) return InvalidArgument(fmt::format("{}: member {} has no name", label, i));
    std::string name = raw;
    std::string shown = name.substr(0, 200);
    auto refuse = [&](std::string_view why) {
      return InvalidArgument(fmt::format("{}: member '{}' {}", label, shown, why));
    };
    if (name.empty()) return refuse("has an empty name");
    if (name.size() > kMaxNameBytes) return refuse("has too long a name");
    if (name[0] == '/') return refuse("is an absolute path");
    if (name.find('\\') != std::string::npos) return refuse("has a backslash in its name");
    for (unsigned char c : name) {
      if (c < 0x20 || c == 0x7f) return refuse("has a control character in its name");
    }
    bool dir = name.back() == '/';
    if (dir) name.pop_back();
    int depth = 0;
    for (size_t k = 0; k <= name.size();) {
      size_t j = name.find('/', k);
      if (j == std::string::npos) j = name.size();
      std::string_view c = std::string_view(name).substr(k, j - k);
      if (c == "..") return refuse("leaves its folder ('..')");
      if (c.empty() || c == ".") return refuse("has an empty or '.' part");
      if (++depth > kMaxNameDepth) return refuse("is nested too deeply");
      k = j + 1;
    }
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(z, i, 0, &opsys, &attr) == 0 && opsys == ZIP_OPSYS_UNIX) {
      mode_t mode = (attr >> 16) & S_IFMT;
      if (mode == S_IFLNK) return refuse("is a symbolic link");
      if (mode != 0 && mode != S_IFREG && mode != S_IFDIR) return refuse("is a special file");
      if (mode == S_IFDIR) dir = true;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, i, 0, &st) != 0) return refuse("cannot be read");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      return refuse("is encrypted");
    }
    if (!seen.insert(name).second) return refuse("appears twice");
    int64_t size = (st.valid & ZIP_STAT_SIZE) ? static_cast<int64_t>(st.size) : 0;
    out.push_back({static_cast<zip_uint64_t>(i), name, dir, size});
  }
  return out;
}

Status CheckRatio(zip_t* z, const Member& m, const std::string& label, const BundleLimits& limits) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, m.index, 0, &st) != 0) return Status::Ok();
  if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) return Status::Ok();
  if (static_cast<int64_t>(st.size) < limits.ratio_floor_bytes) return Status::Ok();
  if (st.comp_size == 0 || st.size / st.comp_size > static_cast<uint64_t>(limits.max_ratio)) {
    return InvalidArgument(
        fmt::format("{}: member '{}' expands more than {} times (a zip bomb?): refused", label,
                    m.name, limits.max_ratio));
  }
  return Status::Ok();
}

// Copies one member into `fd`, counting its bytes against the budget as they come.
Status CopyMember(zip_t* z, const Member& m, int fd, const std::string& label, Budget& budget,
                  const BundleLimits& limits, std::string* into = nullptr, int64_t max_into = 0) {
  RETURN_IF_ERROR(CheckRatio(z, m, label, limits));
  zip_file_t* f = zip_fopen_index(z, m.index, 0);
  if (f == nullptr) {
    return InvalidArgument(
        fmt::format("{}: member '{}' cannot be read: {}", label, m.name, zip_strerror(z)));
  }
  char buf[64 * 1024];
  Status st;
  for (;;) {
    zip_int64_t n = zip_fread(f, buf, sizeof buf);
    if (n < 0) {
      st = InvalidArgument(
          fmt::format("{}: member '{}' is damaged: {}", label, m.name, zip_file_strerror(f)));
      break;
    }
    if (n == 0) break;
    budget.bytes_left -= n;
    if (budget.bytes_left < 0) {
      st = InvalidArgument(
          fmt::format("the bundle expands to more than {} bytes (at {}: member '{}'): refused",
                      limits.max_total_bytes, label, m.name));
      break;
    }
    if (into != nullptr) {
      if (static_cast<int64_t>(into->size() + n) > max_into) {
        st = InvalidArgument(
            fmt::format("{}: '{}' is larger than {} bytes", label, m.name, max_into));
        break;
      }
      into->append(buf, static_cast<size_t>(n));
      continue;
    }
    for (zip_int64_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        st = Internal(fmt::format("writing {}: {}", m.name, strerror(errno)));
        break;
      }
      off += w;
    }
    if (!st.ok()) break;
  }
  zip_fclose(f);
  return st;
}

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", path, strerror(errno)));
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Internal(fmt::format("{} is not a folder", path));
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& base, const std::string& rel) {
  std::string path = base;
  for (size_t k = 0; k <= rel.size() && !rel.empty();) {
    size_t j = rel.find('/', k);
    if (j == std::string::npos) j = rel.size();
    path += "/" + rel.substr(k, j - k);
    RETURN_IF_ERROR(MakeDir(path));
    k = j + 1;
  }
  return Status::Ok();
}

// Extracts the members under `prefix` ("" for all; else "dir/") into `target` (which exists).
// Paths were checked by ListMembers; files are created new (O_EXCL), never through a link.
Status ExtractMembers(zip_t* z, const std::vector<Member>& members, const std::string& prefix,
                      const std::string& target, const std::string& label, Budget& budget,
                      const BundleLimits& limits) {
  int64_t declared = 0;
  for (const Member& m : members) {
    if (m.name.compare(0, prefix.size(), prefix) == 0) declared += m.size;
  }
  if (declared > budget.bytes_left) {
    return InvalidArgument(fmt::format("the bundle expands to more than {} bytes (at {}): refused",
                                       limits.max_total_bytes, label));
  }
  for (const Member& m : members) {
    if (m.name.compare(0, prefix.size(), prefix) != 0 || m.name.size() == prefix.size()) continue;
    std::string rel = m.name.substr(prefix.size());
    if (--budget.files_left < 0) {
      return InvalidArgument(
          fmt::format("the bundle holds more than {} files and folders (at {}): refused",
                      limits.max_files, label));
    }
    if (m.dir) {
      RETURN_IF_ERROR(MakeDirs(target, rel));
      continue;
    }
    size_t slash = rel.rfind('/');
    if (slash != std::string::npos) RETURN_IF_ERROR(MakeDirs(target, rel.substr(0, slash)));
    std::string path = target + "/" + rel;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) {
        return InvalidArgument(fmt::format("{}: member '{}' appears twice", label, m.name));
      }
      return Internal(fmt::format("creating {}: {}", path, strerror(errno)));
    }
    Status s = CopyMember(z, m, fd, label, budget, limits);
    close(fd);
    RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

// Reads a small member wholly into memory.
StatusOr<std::string> ReadMember(zip_t* z, const Member& m, const std::string& label,
                                 Budget& budget, const BundleLimits& limits, int64_t max) {
  std::string out;
  RETURN_IF_ERROR(CopyMember(z, m, -1, label, budget, limits, &out, max));
  return out;
}

StatusOr<std::string> ReadSmallFile(const std::string& path, int64_t max) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return NotFound(path);
  struct stat st;
  std::string out;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > max) {
    close(fd);
    return InvalidArgument(fmt::format("{} is not a file of at most {} bytes", path, max));
  }
  out.resize(static_cast<size_t>(st.st_size));
  ssize_t n = read(fd, out.data(), out.size());
  close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

class BundleReader {
 public:
  BundleReader(zip_t* z, std::vector<Member> members, std::string prefix, std::string extract_dir,
               const BundleLimits& limits)
      : z_(z),
        members_(std::move(members)),
        prefix_(std::move(prefix)),
        dir_(std::move(extract_dir)),
        limits_(limits),
        budget_{limits.max_total_bytes, limits.max_files} {}

  Budget& budget() { return budget_; }

  const Member* Find(const std::string& path) const {
    std::string full = prefix_ + path;
    for (const Member& m : members_) {
      if (m.name == full) return &m;
    }
    return nullptr;
  }
  bool IsFolder(const std::string& path) const {
    std::string full = prefix_ + path + "/";
    return std::any_of(members_.begin(), members_.end(),
                       [&](const Member& m) { return m.name.compare(0, full.size(), full) == 0; });
  }

  StatusOr<std::string> ReadText(const std::string& path, const std::string& what, int64_t max) {
    const Member* m = Find(path);
    if (m == nullptr || m->dir) {
      return InvalidArgument(fmt::format("{}: '{}' is not in the bundle", what, path));
    }
    ASSIGN_OR_RETURN(std::string text, ReadMember(z_, *m, "the bundle", budget_, limits_, max));
    if (text.find('\0') != std::string::npos) {
      return InvalidArgument(fmt::format("{}: '{}' is not text", what, path));
    }
    return text;
  }

  // Extracts the bundle's `path` (a zip in the bundle, or a folder of it) into `target`.
  Status ExtractPart(const std::string& path, const std::string& what, const std::string& target) {
    RETURN_IF_ERROR(MakeDirs(dir_, target.substr(dir_.size() + 1)));
    const Member* m = Find(path);
    if (m != nullptr && !m->dir) {
      // A zip inside the bundle: copied out, opened, extracted, removed.
      std::string tmp = fmt::format("{}/.nested-{}.zip", dir_, nested_++);
      int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) return Internal(fmt::format("creating {}: {}", tmp, strerror(errno)));
      int64_t before = budget_.bytes_left;
      Status s = CopyMember(z_, *m, fd, "the bundle", budget_, limits_);
      close(fd);
      if (s.ok()) {
        budget_.bytes_left = before;  // the copy is removed once read
        auto nested = OpenZip(tmp, path);
        if (!nested.ok()) {
          s = InvalidArgument(fmt::format("{}: {}", what, nested.status().message()));
        } else {
          auto listed = ListMembers(nested->get(), path);
          s = listed.ok()
                  ? ExtractMembers(nested->get(), *listed, "", target, path, budget_, limits_)
                  : listed.status();
        }
      }
      unlink(tmp.c_str());
      return s;
    }
    if (IsFolder(path)) {
      return ExtractMembers(z_, members_, prefix_ + path + "/", target, "the bundle", budget_,
                            limits_);
    }
    return InvalidArgument(fmt::format("{}: '{}' is not in the bundle", what, path));
  }

  // A program's folder: its metadata at the root, or in its one sub-folder (a zip of the
  // folder rather than of its contents).
  StatusOr<std::string> ProgramDir(const std::string& dir, const std::string& what,
                                   const std::string& path, runner::ProgramMetadata* metadata) {
    std::string at = dir;
    struct stat st;
    if (lstat((dir + "/metadata").c_str(), &st) != 0) {
      std::vector<std::string> entries;
      if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") entries.push_back(n);
        }
        closedir(d);
      }
      if (entries.size() == 1 && lstat((dir + "/" + entries[0] + "/metadata").c_str(), &st) == 0) {
        at = dir + "/" + entries[0];
      } else {
        return InvalidArgument(
            fmt::format("{}: '{}' has no metadata file at its root", what, path));
      }
    }
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(at + "/metadata", runner::kMaxMetadataBytes));
    ASSIGN_OR_RETURN(*metadata, runner::ParseProgramMetadata(text, path + "/metadata"));
    return at;
  }

 private:
  zip_t* z_;
  std::vector<Member> members_;
  std::string prefix_;
  std::string dir_;
  const BundleLimits& limits_;
  Budget budget_;
  int nested_ = 0;
};

}  // namespace

StatusOr<CompetitionSpec> ParseCompetitionYaml(std::string_view text, const BundleLimits& limits) {
  if (static_cast<int64_t>(text.size()) > limits.max_yaml_bytes) {
    return InvalidArgument(
        fmt::format("competition.yaml: larger than {} bytes", limits.max_yaml_bytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return InvalidArgument("competition.yaml: a NUL byte");
  }
  RETURN_IF_ERROR(CheckNesting(text));
  try {
    YAML::Node doc = YAML::Load(std::string(text));
    return ParseYamlDocument(doc);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return InvalidArgument(fmt::format("competition.yaml: {}", e.msg));
    return InvalidArgument(fmt::format("competition.yaml line {}: {}", e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("competition.yaml: {}", e.what()));
  }
}

StatusOr<Bundle> ReadBundle(const std::string& zip_path, const std::string& extract_dir,
                            const BundleLimits& limits) {
  if (extract_dir.empty() || extract_dir[0] != '/') {
    return InvalidArgument("the extraction folder must be an absolute path");
  }
  if (mkdir(extract_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(fmt::format("mkdir {}: {}", extract_dir, strerror(errno)));
  }
  {
    std::error_code ec;
    if (!std::filesystem::is_empty(extract_dir, ec) || ec) {
      return FailedPrecondition(fmt::format("{} is not an empty folder", extract_dir));
    }
  }
  ASSIGN_OR_RETURN(ZipPtr zip, OpenZip(zip_path, "the bundle"));
  ASSIGN_OR_RETURN(std::vector<Member> members, ListMembers(zip.get(), "the bundle"));

  // competition.yaml at the root, or in the bundle's one top folder.
  std::string prefix;
  const Member* yaml = nullptr;
  std::vector<const Member*> nested;
  for (const Member& m : members) {
    if (m.dir) continue;
    if (m.name == "competition.yaml" || m.name == "competition.yml") yaml = &m;
    size_t slash = m.name.find('/');
    if (slash != std::string::npos && m.name.find('/', slash + 1) == std::string::npos) {
      std::string base = m.name.substr(slash + 1);
      if (base == "competition.yaml" || base == "competition.yml") nested.push_back(&m);
    }
  }
  if (yaml == nullptr && nested.size() == 1) {
    yaml = nested[0];
    prefix = yaml->name.substr(0, yaml->name.find('/') + 1);
  }
  if (yaml == nullptr) {
    return InvalidArgument("the bundle has no competition.yaml at its root");
  }
  std::string yaml_name = yaml->name.substr(prefix.size());
  BundleReader reader(zip.get(), members, prefix, extract_dir, limits);
  ASSIGN_OR_RETURN(std::string text,
                   reader.ReadText(yaml_name, "the bundle", limits.max_yaml_bytes));
  ASSIGN_OR_RETURN(CompetitionSpec spec, ParseCompetitionYaml(text, limits));

  Bundle b;
  b.title = spec.title;
  b.summary = spec.summary;
  b.docker_image = spec.docker_image;
  b.phases = spec.phases;
  b.leaderboards = spec.leaderboards;
  b.not_imported = spec.not_imported;
  for (size_t i = 0; i < spec.pages.size(); ++i) {
    const auto& ref = spec.pages[i];
    ASSIGN_OR_RETURN(
        std::string content,
        reader.ReadText(ref.file, fmt::format("pages[{}].file", i), limits.max_page_bytes));
    if (!b.description.empty()) b.description += "\n\n";
    b.description += fmt::format("# {}\n\n{}", ref.title, content);
    b.pages.push_back({ref.title, ref.file, std::move(content)});
  }
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    const auto& ref = spec.tasks[i];
    Task t;
    t.index = ref.index;
    t.name = ref.name;
    t.description = ref.description;
    std::string base = fmt::format("{}/tasks/{}", extract_dir, ref.index);
    auto what = [&](const char* key) { return fmt::format("tasks[{}].{}", i, key); };
    RETURN_IF_ERROR(reader.ExtractPart(ref.scoring_program, what("scoring_program"),
                                       base + "/scoring_program"));
    ASSIGN_OR_RETURN(t.scoring_program_dir,
                     reader.ProgramDir(base + "/scoring_program", what("scoring_program"),
                                       ref.scoring_program, &t.scoring));
    if (!ref.ingestion_program.empty()) {
      RETURN_IF_ERROR(reader.ExtractPart(ref.ingestion_program, what("ingestion_program"),
                                         base + "/ingestion_program"));
      runner::ProgramMetadata m;
      ASSIGN_OR_RETURN(t.ingestion_program_dir,
                       reader.ProgramDir(base + "/ingestion_program", what("ingestion_program"),
                                         ref.ingestion_program, &m));
      t.ingestion = std::move(m);
    }
    if (!ref.reference_data.empty()) {
      t.reference_data_dir = base + "/reference_data";
      RETURN_IF_ERROR(
          reader.ExtractPart(ref.reference_data, what("reference_data"), t.reference_data_dir));
    }
    if (!ref.input_data.empty()) {
      t.input_data_dir = base + "/input_data";
      RETURN_IF_ERROR(reader.ExtractPart(ref.input_data, what("input_data"), t.input_data_dir));
    }
    b.tasks.push_back(std::move(t));
  }
  return b;
}

}  // namespace openlab::validation::bundle
