#include "client/transfer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace openlab::client {

namespace json = boost::json;

StatusOr<json::value> CallJson(DataConnection& c, const std::string& method,
                               const std::string& path, const std::string& body,
                               const std::string& what) {
  ASSIGN_OR_RETURN(HttpResult r, c.Json(method, path, body));
  if (r.status < 200 || r.status >= 300) return ServerError(what, r);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec) return Internal(fmt::format("{} {}: the server's answer is not JSON", method, path));
  return v;
}

StatusOr<std::string> ResolveDataset(DataConnection& c, const std::string& ref) {
  if (ref.empty()) return InvalidArgument("give a dataset name or id");
  if (ref.rfind("ds_", 0) == 0) return ref;
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/api/v1/datasets?limit=500&q=" + EncodeQueryValue(ref);
    if (!cursor.empty()) path += "&cursor=" + EncodeQueryValue(cursor);
    ASSIGN_OR_RETURN(json::value v, CallJson(c, "GET", path));
    for (const auto& d : v.at("items").as_array()) {
      if (Field(d, "name") == ref) ids.push_back(Field(d, "id"));
    }
    const json::value* next = v.as_object().if_contains("next_cursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->get_string());
  }
  if (ids.empty()) return NotFound(fmt::format("no dataset named '{}' that you can see", ref));
  if (ids.size() > 1) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return InvalidArgument(
        fmt::format("'{}' names {} datasets ({}); give the id", ref, ids.size(), list));
  }
  return ids[0];
}

std::pair<std::string, std::string> SplitRef(const std::string& ref) {
  auto at = ref.find('@');
  if (at == std::string::npos) return {ref, "latest"};
  return {ref.substr(0, at), ref.substr(at + 1)};
}

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.size() > 4096) return false;
  size_t start = 0;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      std::string_view seg(p.data() + start, i - start);
      if (seg.empty() || seg == "." || seg == "..") return false;
      start = i + 1;
    } else if (p[i] == '\0' || p[i] == '\\') {
      return false;
    }
  }
  return true;
}

std::string Text(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_array()) {
    std::string out;
    for (const auto& x : v->get_array()) out += (out.empty() ? "" : ",") + Text(&x);
    return out.empty() ? "-" : out;
  }
  return json::serialize(*v);
}

std::string Field(const json::value& o, const char* key) {
  return o.is_object() ? Text(o.as_object().if_contains(key)) : "-";
}

int64_t IntField(const json::value& o, const char* key) {
  const json::value* v = o.is_object() ? o.as_object().if_contains(key) : nullptr;
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

Status ServerError(const std::string& what, const HttpResult& r) {
  return Internal(what.empty() ? ErrorLine(r) : what + ": " + ErrorLine(r));
}

Status SysError(const std::string& what) {
  return Internal(fmt::format("{}: {}", what, std::strerror(errno)));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace openlab::client
