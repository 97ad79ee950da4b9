#include "http/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/clock.h"

namespace openlab::http {

namespace json = boost::json;

json::value TimeOrNull(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return json::value(FormatTime(*ms));
}
json::value TimeOrNull(int64_t ms_or_zero) {
  if (ms_or_zero == 0) return nullptr;
  return json::value(FormatTime(ms_or_zero));
}
void SetEtag(Ctx& ctx, int64_t version) {
  ctx.headers.emplace_back("etag", fmt::format("\"{}\"", version));
}

void RenderCreated(Ctx& ctx, const std::string& location, int64_t version, json::value body) {
  ctx.status = 201;
  ctx.headers.emplace_back("location", location);
  RenderVersioned(ctx, version, std::move(body));
}

void RenderVersioned(Ctx& ctx, int64_t version, json::value body) {
  SetEtag(ctx, version);
  ctx.json = std::move(body);
}

// ---- pagination: ?limit=N&cursor=C, cursor = base64url(last id)

StatusOr<tenants::Page> ReadPage(const Ctx& ctx, PageLimits limits) {
  tenants::Page page;
  page.limit = limits.dflt;
  if (auto l = ctx.QueryParam("limit")) {
    char* end = nullptr;
    long v = l->empty() || l->size() > 6 ? -1 : std::strtol(l->c_str(), &end, 10);
    if (v < 1 || v > limits.max || (end && *end != '\0')) {
      return InvalidArgument(fmt::format("limit must be an integer from 1 to {}", limits.max));
    }
    page.limit = static_cast<int>(v);
  }
  if (auto c = ctx.QueryParam("cursor")) {
    std::string after;
    if (!Base64UrlDecode(*c, &after) || after.size() > limits.max_cursor) {
      return InvalidArgument("cursor is not one this server issued");
    }
    page.after = after;
  }
  return page;
}

// Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fraction optional) to epoch ms.
StatusOr<int64_t> ParseTime(const std::string& s, const char* field) {
  int y, mo, d, h, mi, sec;
  char z = 0;
  int n = 0;
  if (s.size() < 20 || s.size() > 30 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
    return InvalidArgument(
        fmt::format("{} must be an RFC 3339 UTC time like 2027-01-31T00:00:00Z", field));
  }
  size_t pos = n;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    for (; digits < 3; ++digits) frac_ms *= 10;
  }
  if (pos < s.size()) z = s[pos++];
  if (z != 'Z' || pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60 || y < 1970 || y > 9999) {
    return InvalidArgument(
        fmt::format("{} must be an RFC 3339 UTC time like 2027-01-31T00:00:00Z", field));
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + frac_ms;
}

boost::json::object Figure(const std::string& key, double value, bool more,
                           const std::string& type) {
  // Counts are whole numbers, and written as such (0, not 0E0).
  boost::json::value v = value;
  if (std::abs(value) < 1e15 && value == static_cast<double>(static_cast<int64_t>(value))) {
    v = static_cast<int64_t>(value);
  }
  boost::json::object o{{"key", key}, {"value", v}, {"more", more}};
  if (!type.empty()) o["type"] = type;
  return o;
}

}  // namespace openlab::http
