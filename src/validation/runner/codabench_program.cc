#include "validation/runner/codabench_program.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace openlab::validation::runner {

namespace {

// Codabench's names: an ingestion program's own folder is also $ingestion_program, and the
// participant's code it runs is $submission_program.
constexpr std::array<std::string_view, 6> kVariables = {
    "program", "input", "output", "shared", "ingestion_program", "submission_program"};
constexpr std::string_view kVariableList =
    "$program, $input, $output, $shared, $ingestion_program and $submission_program";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `text` into lines (without '\n' or a trailing '\r'), calling fn(line, number).
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    RETURN_IF_ERROR(fn(line, line_no));
  }
  return Status::Ok();
}

bool IsKeyName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// A YAML scalar written in quotes as a whole ("..." or '...'): its content; otherwise nullopt.
std::optional<std::string> Unquote(std::string_view v) {
  if (v.size() < 2 || (v.front() != '"' && v.front() != '\'')) return std::nullopt;
  char q = v.front();
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (q == '"' && c == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (q == '\'' && c == '\'' && i + 1 < v.size() && v[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else if (c == q) {
      if (i + 1 != v.size()) return std::nullopt;  // the quotes close before the end: words
      return out;
    } else {
      out += c;
    }
  }
  return std::nullopt;
}

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Reads the variable at s[i] == '$'; returns its name and advances i past it.
StatusOr<std::string> ReadVariable(std::string_view s, size_t& i, const std::string& where) {
  size_t start = i++;
  std::string name;
  if (i < s.size() && s[i] == '{') {
    size_t close = s.find('}', i);
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("{}: '${{' without its '}}'", where));
    }
    name = std::string(s.substr(i + 1, close - i - 1));
    i = close + 1;
  } else if (i < s.size() && s[i] == '(') {
    return InvalidArgument(fmt::format(
        "{}: command substitution '$(' is refused: openlab runs the command without a shell",
        where));
  } else {
    while (i < s.size() && IsNameChar(s[i])) name += s[i++];
  }
  if (name.empty() || !IsNameStart(name[0])) {
    return InvalidArgument(
        fmt::format("{}: '{}' is not a variable: openlab gives {} (a '$' always starts one)", where,
                    s.substr(start, std::max<size_t>(i - start, 1)), kVariableList));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidArgument(fmt::format("{}: '${{{}}}' is not a variable name", where, name));
    }
  }
  for (std::string_view v : kVariables) {
    if (name == v) return name;
  }
  return InvalidArgument(
      fmt::format("{}: unknown variable ${}: openlab gives {}", where, name, kVariableList));
}

// Splits a command into words as a POSIX shell would, without any of a shell's other work.
StatusOr<std::vector<std::string>> SplitCommand(std::string_view cmd, const std::string& where) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  auto no_shell = [&](std::string_view what) {
    return InvalidArgument(fmt::format(
        "{}: {} is refused: openlab runs the command directly, without a shell", where, what));
  };
  // An escaped '$' would be a literal dollar sign in a word, where "${" could then read as a
  // variable when the command is expanded: every '$' starts a variable, so it is refused.
  auto literal_dollar = [&] {
    return InvalidArgument(
        fmt::format("{}: an escaped '$' is refused: a '$' always starts a variable ({})", where,
                    kVariableList));
  };
  for (size_t i = 0; i < cmd.size();) {
    char c = cmd[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
        ++i;
        continue;
      }
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
        ++i;
        continue;
      }
      if (c == '`') return no_shell("'`'");
      if (c == '\\' && i + 1 < cmd.size()) {
        if (cmd[i + 1] == '$') return literal_dollar();
        word += cmd[i + 1];
        i += 2;
        continue;
      }
    } else {
      if (c == ' ' || c == '\t') {
        if (in_word) words.push_back(std::move(word));
        word.clear();
        in_word = false;
        ++i;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        in_word = true;
        ++i;
        continue;
      }
      if (c == '\\') {
        if (i + 1 >= cmd.size()) return InvalidArgument(where + ": the command ends in '\\'");
        if (cmd[i + 1] == '$') return literal_dollar();
        word += cmd[i + 1];
        in_word = true;
        i += 2;
        continue;
      }
      switch (c) {
        case '|':
        case ';':
        case '&':
        case '<':
        case '>':
        case '`':
        case '(':
        case ')':
        case '*':
        case '?':
          return no_shell(fmt::format("'{}'", c));
        case '#':
          if (!in_word) return no_shell("a comment ('#')");
          break;
        case '~':
          if (!in_word) return no_shell("'~'");
          break;
        default:
          break;
      }
    }
    if (c == '$') {
      size_t j = i;
      ASSIGN_OR_RETURN(std::string name, ReadVariable(cmd, j, where));
      word += "${" + name + "}";
      in_word = true;
      i = j;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument(fmt::format("{}: a control character (0x{:02x}) in the command", where,
                                         static_cast<unsigned char>(c)));
    }
    word += c;
    in_word = true;
    ++i;
  }
  if (quote != 0) return InvalidArgument(fmt::format("{}: an unclosed {} quote", where, quote));
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return InvalidArgument(where + ": the command is empty");
  return words;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    if ((c >> 5) == 6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Status CheckKey(std::string_view key, const std::string& where) {
  if (key.empty()) return InvalidArgument(where + ": an empty key");
  if (key.size() > kMaxScoreKeyBytes) {
    return InvalidArgument(fmt::format("{}: a key longer than {} bytes", where, kMaxScoreKeyBytes));
  }
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(where + ": a key with a control character");
    }
  }
  if (!ValidUtf8(key)) return InvalidArgument(where + ": a key that is not UTF-8");
  return Status::Ok();
}

// A decimal number's text to a finite double; nullopt when it does not parse wholly, or is not
// finite (overflow). An underflow is the nearest double (0 or subnormal), as strtod gives it.
std::optional<double> ToFinite(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (p != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    std::string copy(s);
    errno = 0;
    v = std::strtod(copy.c_str(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// [+-]?(digits(.digits*)?|.digits)([eE][+-]?digits)?: a plain decimal number, nothing else.
bool IsDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

// The strict reader of scores.json: one flat object of numbers, with line numbers in errors.
class ScoresJsonReader {
 public:
  ScoresJsonReader(std::string_view text, std::string_view file) : s_(text), file_(file) {}

  StatusOr<ScoreMap> Read() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;  // a byte order mark some editors write
    SkipSpace();
    if (!Peek('{')) return Error("expected '{': scores.json holds one JSON object");
    ++i_;
    SkipSpace();
    ScoreMap out;
    if (Peek('}')) {
      ++i_;
    } else {
      for (;;) {
        SkipSpace();
        size_t key_line = Line();
        if (!Peek('"')) return Error("expected a key in double quotes");
        ASSIGN_OR_RETURN(std::string key, String());
        RETURN_IF_ERROR(CheckKey(key, fmt::format("{} line {}", file_, key_line)));
        SkipSpace();
        if (!Peek(':')) return Error(fmt::format("expected ':' after \"{}\"", key));
        ++i_;
        SkipSpace();
        ASSIGN_OR_RETURN(double v, Number(key));
        if (out.count(key) > 0) {
          return InvalidArgument(
              fmt::format("{} line {}: \"{}\" appears twice", file_, key_line, key));
        }
        if (out.size() == kMaxScoreKeys) {
          return Error(fmt::format("more than {} scores", kMaxScoreKeys));
        }
        out.emplace(std::move(key), v);
        SkipSpace();
        if (Peek(',')) {
          ++i_;
          continue;
        }
        if (Peek('}')) {
          ++i_;
          break;
        }
        return Error("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (i_ != s_.size()) return Error("text after the object");
    if (out.empty()) return InvalidArgument(fmt::format("{}: holds no scores", file_));
    return out;
  }

 private:
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  size_t Line() const {
    size_t n = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) n += s_[k] == '\n';
    return n;
  }
  Status Error(std::string_view what) const {
    if (i_ >= s_.size()) {
      return InvalidArgument(fmt::format("{} line {}: {} (the file ends)", file_, Line(), what));
    }
    return InvalidArgument(fmt::format("{} line {}: {}", file_, Line(), what));
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  StatusOr<uint32_t> Hex4() {
    if (i_ + 4 > s_.size()) return Error("a \\u escape needs four hex digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int h = Hex(s_[i_ + k]);
      if (h < 0) return Error("a \\u escape needs four hex digits");
      v = v * 16 + h;
    }
    i_ += 4;
    return v;
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  // At '"': the string's content, escapes decoded.
  StatusOr<std::string> String() {
    ++i_;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) return Error("an unterminated string");
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Error("a control character in a string");
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      if (++i_ >= s_.size()) return Error("an unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          ASSIGN_OR_RETURN(uint32_t cp, Hex4());
          if (cp >= 0xdc00 && cp <= 0xdfff) return Error("a lone low surrogate (\\u escape)");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s_.substr(i_, 2) != "\\u") return Error("a lone high surrogate (\\u escape)");
            i_ += 2;
            ASSIGN_OR_RETURN(uint32_t lo, Hex4());
            if (lo < 0xdc00 || lo > 0xdfff) return Error("a lone high surrogate (\\u escape)");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          --i_;
          return Error(fmt::format("an unknown escape '\\{}'", e));
      }
    }
  }
  StatusOr<double> Number(const std::string& key) {
    if (i_ >= s_.size()) return Error(fmt::format("expected the value of \"{}\"", key));
    char c = s_[i_];
    std::string_view kind;
    switch (c) {
      case '"':
        kind = "a string";
        break;
      case 't':
      case 'f':
        kind = "a boolean";
        break;
      case 'n':
        kind = "null";
        break;
      case '[':
        kind = "an array";
        break;
      case '{':
        kind = "an object";
        break;
      case 'N':
      case 'I':
        return Error(fmt::format(
            "the value of \"{}\" is not a finite number (JSON has no NaN or Infinity)", key));
      default:
        break;
    }
    if (!kind.empty()) {
      return Error(fmt::format("the value of \"{}\" is {}; scores are numbers", key, kind));
    }
    size_t start = i_;
    if (Peek('-')) ++i_;
    auto digits = [&] {
      size_t n = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_, ++n;
      return n;
    };
    if (Peek('0')) {
      ++i_;
    } else if (digits() == 0) {
      if (i_ + 1 < s_.size() && (s_[i_] == 'I' || s_[i_] == 'N')) {
        return Error(fmt::format(
            "the value of \"{}\" is not a finite number (JSON has no NaN or Infinity)", key));
      }
      return Error(fmt::format("the value of \"{}\" is not a JSON number", key));
    }
    if (Peek('.')) {
      ++i_;
      if (digits() == 0) return Error(fmt::format("the value of \"{}\" is not a JSON number", key));
    }
    if (Peek('e') || Peek('E')) {
      ++i_;
      if (Peek('+') || Peek('-')) ++i_;
      if (digits() == 0) return Error(fmt::format("the value of \"{}\" is not a JSON number", key));
    }
    std::optional<double> v = ToFinite(s_.substr(start, i_ - start));
    if (!v.has_value()) {
      i_ = start;
      return Error(fmt::format("the value of \"{}\" is not a finite number", key));
    }
    return *v;
  }

  std::string_view s_;
  std::string file_;
  size_t i_ = 0;
};

}  // namespace

StatusOr<ProgramMetadata> ParseProgramMetadata(std::string_view text, std::string_view file) {
  if (text.size() > kMaxMetadataBytes) {
    return InvalidArgument(fmt::format("{}: larger than {} bytes", file, kMaxMetadataBytes));
  }
  ProgramMetadata m;
  bool has_command = false, has_description = false;
  RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view raw, size_t n) -> Status {
    std::string where = fmt::format("{} line {}", file, n);
    if (raw.find('\0') != std::string_view::npos) {
      return InvalidArgument(where + ": a NUL byte");
    }
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#') return Status::Ok();
    if (raw[0] == ' ' || raw[0] == '\t') {
      return InvalidArgument(where + ": an indented line: write each key on one line of its own");
    }
    if (line == "---" || line == "...") return Status::Ok();  // YAML document markers
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(where + ": expected 'key: value'");
    }
    std::string_view key = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (!IsKeyName(key)) {
      return InvalidArgument(fmt::format("{}: '{}' is not a key", where, key));
    }
    if (value == "|" || value == ">" || value.starts_with("|") || value.starts_with(">")) {
      return InvalidArgument(where + ": a multi-line value: write the value on the key's line");
    }
    std::optional<std::string> unquoted = Unquote(value);
    std::string v = unquoted.has_value() ? *unquoted : std::string(value);
    if (key == "command") {
      if (has_command) return InvalidArgument(where + ": a second command");
      has_command = true;
      ASSIGN_OR_RETURN(m.words, SplitCommand(v, where));
      m.command = std::move(v);
    } else if (key == "description") {
      if (has_description) return InvalidArgument(where + ": a second description");
      has_description = true;
      m.description = std::move(v);
    } else {
      return InvalidArgument(fmt::format(
          "{}: unknown key '{}': openlab reads only command and description", where, key));
    }
    return Status::Ok();
  }));
  if (!has_command) {
    return InvalidArgument(fmt::format("{}: no 'command:' line", file));
  }
  return m;
}

StatusOr<std::vector<std::string>> ExpandCommand(const ProgramMetadata& metadata,
                                                 const ProgramDirs& dirs, std::string_view file) {
  auto value_of = [&](std::string_view name) -> const std::string* {
    if (name == "program" || name == "ingestion_program") return &dirs.program;
    if (name == "submission_program") return &dirs.submission;
    if (name == "input") return &dirs.input;
    if (name == "output") return &dirs.output;
    if (name == "shared") return &dirs.shared;
    return nullptr;
  };
  std::vector<std::string> argv;
  for (const std::string& w : metadata.words) {
    std::string out;
    size_t i = 0;
    while (i < w.size()) {
      size_t d = w.find("${", i);
      if (d == std::string::npos) {
        out.append(w, i);
        break;
      }
      out.append(w, i, d - i);
      size_t close = w.find('}', d);
      std::string name = w.substr(d + 2, close - d - 2);
      const std::string* v = value_of(name);
      if (v == nullptr || v->empty()) {
        return InvalidArgument(
            fmt::format("{}: the command uses ${}, which this program is not given", file, name));
      }
      out += *v;
      i = close + 1;
    }
    argv.push_back(std::move(out));
  }
  return argv;
}

StatusOr<std::string> ResolveProgram(const std::string& word,
                                     const std::function<bool(const std::string&)>& is_executable,
                                     std::string_view file) {
  if (!word.empty() && word[0] == '/') return word;
  if (word.find('/') != std::string::npos) {
    return InvalidArgument(fmt::format(
        "{}: the command's program '{}' is a relative path: write it from $program (e.g. "
        "$program/{})",
        file, word, word));
  }
  std::vector<std::string> names = {word};
  if (word == "python") names.push_back("python3");
  for (const std::string& name : names) {
    for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
      std::string path = fmt::format("{}/{}", dir, name);
      if (is_executable(path)) return path;
    }
  }
  return InvalidArgument(fmt::format(
      "{}: the command's program '{}' is not installed here (looked in /usr/local/bin, /usr/bin "
      "and /bin)",
      file, word));
}

StatusOr<ScoreMap> ParseScoresJson(std::string_view text, std::string_view file) {
  if (text.size() > kMaxScoresBytes) {
    return InvalidArgument(fmt::format("{}: larger than {} bytes", file, kMaxScoresBytes));
  }
  return ScoresJsonReader(text, file).Read();
}

StatusOr<ScoreMap> ParseScoresTxt(std::string_view text, std::string_view file) {
  if (text.size() > kMaxScoresBytes) {
    return InvalidArgument(fmt::format("{}: larger than {} bytes", file, kMaxScoresBytes));
  }
  ScoreMap out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view raw, size_t n) -> Status {
    std::string where = fmt::format("{} line {}", file, n);
    std::string_view line = Trim(raw);
    if (line.empty()) return Status::Ok();
    size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(where + ": expected 'key: value'");
    }
    std::string key(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    RETURN_IF_ERROR(CheckKey(key, where));
    if (value.empty()) return InvalidArgument(fmt::format("{}: \"{}\" has no value", where, key));
    std::optional<double> v;
    if (IsDecimal(value)) v = ToFinite(value);
    if (!v.has_value()) {
      return InvalidArgument(fmt::format("{}: the value of \"{}\" ('{}') is not a finite number",
                                         where, key, value.substr(0, 40)));
    }
    if (out.count(key) > 0) {
      return InvalidArgument(fmt::format("{}: \"{}\" appears twice", where, key));
    }
    if (out.size() == kMaxScoreKeys) {
      return InvalidArgument(fmt::format("{}: more than {} scores", where, kMaxScoreKeys));
    }
    out.emplace(std::move(key), *v);
    return Status::Ok();
  }));
  if (out.empty()) return InvalidArgument(fmt::format("{}: holds no scores", file));
  return out;
}

StatusOr<ScoreMap> ScoresFromOutput(const std::map<std::string, std::string>& output_files) {
  if (auto it = output_files.find("scores.json"); it != output_files.end()) {
    return ParseScoresJson(it->second, "scores.json");
  }
  if (auto it = output_files.find("scores.txt"); it != output_files.end()) {
    return ParseScoresTxt(it->second, "scores.txt");
  }
  return InvalidArgument(
      "the scoring program wrote neither scores.json nor scores.txt in its output directory");
}

}  // namespace openlab::validation::runner
