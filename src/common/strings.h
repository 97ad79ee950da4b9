// Small string helpers.
#pragma once

#include <boost/url/encode.hpp>
#include <boost/url/grammar/lut_chars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace openlab {

// Splits on `sep`, dropping empty parts: Split("a,,b", ',') == {"a", "b"}.
inline std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Joins `parts` with `sep` between them: Join({"a", "b"}, ",") == "a,b".
inline std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// `s` with the ASCII letters A-Z made lower case (ids and names; nothing else changes).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Percent-encodes `s` for a URL: every byte but the unreserved characters (A-Z a-z 0-9 - . _ ~)
// and those in `also_keep` becomes %XX, upper-case hex: PercentEncode("a b/c", "/") ==
// "a%20b/c". `also_keep` must not hold '%'.
inline std::string PercentEncode(std::string_view s, std::string_view also_keep = {}) {
  boost::urls::grammar::lut_chars keep = boost::urls::unreserved_chars;
  for (char c : also_keep) keep = keep + c;
  return boost::urls::encode(s, keep);
}

}  // namespace openlab
