// Strict reading of JSON request bodies: every field checked for type and bounds, unknown
// fields refused, so bad input becomes a clear InvalidArgument and never a crash.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace openlab {

// Parses `body` as a JSON object. Rejects invalid JSON, invalid UTF-8, non-objects, nesting
// deeper than 32 levels and numbers that do not fit.
StatusOr<boost::json::object> ParseJsonObject(std::string_view body);

// Reads fields from a parsed object, remembering the first error. Typical use:
//   JsonReader r(obj);
//   auto name = r.String("name", {.required = true, .max_len = 100});
//   RETURN_IF_ERROR(r.Finish());   // also fails on fields that were never read
class JsonReader {
 public:
  struct StringOpts {
    bool required = false;
    size_t min_len = 0;
    size_t max_len = 1000;
  };

  explicit JsonReader(const boost::json::object& obj) : obj_(obj) {}

  std::optional<std::string> String(std::string_view key, StringOpts opts);
  std::optional<int64_t> Int(std::string_view key, bool required, int64_t min, int64_t max);
  std::optional<double> Number(std::string_view key, bool required, double min, double max);
  std::optional<bool> Bool(std::string_view key, bool required);
  std::optional<std::vector<std::string>> StringList(std::string_view key, bool required,
                                                     size_t max_items, size_t max_len);
  // An object of string values, e.g. environment variables.
  std::optional<std::map<std::string, std::string>> StringMap(std::string_view key, bool required,
                                                              size_t max_items, size_t max_len);
  // An array of at most `max_items` values, for the caller to read item by item.
  const boost::json::array* Array(std::string_view key, bool required, size_t max_items);
  // An object, for the caller to read with a JsonReader of its own.
  const boost::json::object* Object(std::string_view key, bool required);
  // True if the key is present (even if null).
  bool Has(std::string_view key) const { return obj_.contains(key); }

  // The first error, or an error naming an unknown field.
  Status Finish();

 private:
  const boost::json::value* Get(std::string_view key, bool required);
  void Fail(std::string message);

  const boost::json::object& obj_;
  std::set<std::string, std::less<>> seen_;
  Status status_;
};

// Serialises a JSON value compactly.
std::string ToJson(const boost::json::value& v);

}  // namespace openlab
