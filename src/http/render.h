// What every resource's handlers share to read and render: paging (?limit=N&cursor=C, the
// cursor being base64url of the last id), times (RFC 3339 UTC), ETags. Handlers parse, call the
// capability and render with these; the resources' own renderers live with their routes.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/status.h"
#include "http/router.h"
#include "tenants/tenants.h"

namespace openlab::http {

// An epoch-ms time as RFC 3339 UTC with milliseconds, or null when absent.
boost::json::value TimeOrNull(std::optional<int64_t> ms);
// The same for a record that keeps 0 for "not set".
boost::json::value TimeOrNull(int64_t ms_or_zero);

// The ETag of an object at `version` ("\"3\"").
void SetEtag(Ctx& ctx, int64_t version);
// An object just created: 201, its Location, its ETag and its representation.
void RenderCreated(Ctx& ctx, const std::string& location, int64_t version, boost::json::value body);
// An object read or changed: its ETag and its representation.
void RenderVersioned(Ctx& ctx, int64_t version, boost::json::value body);

// What a list takes: ?limit= from 1 to `max` (default `dflt`), and a ?cursor= this server
// issued (base64url of at most `max_cursor` bytes: the last id, path or number of a page).
struct PageLimits {
  int dflt = 50;
  int max = 500;
  size_t max_cursor = 64;
};
StatusOr<tenants::Page> ReadPage(const Ctx& ctx, PageLimits limits = {});

// Renders `items` as {"items": [...], "next_cursor": ...}: a cursor when the page is full.
template <typename T, typename F>
void RenderPage(Ctx& ctx, const std::vector<T>& items, const tenants::Page& page, F render,
                const std::string& (*id_of)(const T&)) {
  boost::json::array arr;
  for (const T& item : items) arr.push_back(render(item));
  boost::json::object out;
  out["items"] = std::move(arr);
  if (static_cast<int>(items.size()) == page.limit && !items.empty()) {
    out["next_cursor"] = Base64UrlEncode(id_of(items.back()));
  } else {
    out["next_cursor"] = nullptr;
  }
  ctx.json = std::move(out);
}

// One of the centre's live figures (Router::AddFigures): `value` of `key` (of accelerator `type`
// where given); `more`: there are more than `value` (a count stopped at its bound).
boost::json::object Figure(const std::string& key, double value, bool more = false,
                           const std::string& type = "");

// Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fraction optional) to epoch ms; the
// error names `field`.
StatusOr<int64_t> ParseTime(const std::string& s, const char* field);

}  // namespace openlab::http
