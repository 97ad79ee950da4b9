// Small string helpers.
#pragma once

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

}  // namespace openlab
