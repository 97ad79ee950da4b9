#include "common/json_util.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace openlab {

namespace json = boost::json;

StatusOr<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return InvalidArgument("the request body is empty; a JSON object is expected");
  json::parse_options opts;
  opts.max_depth = 32;
  opts.allow_invalid_utf8 = false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec) {
    return InvalidArgument(fmt::format("the request body is not valid JSON: {}", ec.message()));
  }
  if (!v.is_object()) return InvalidArgument("the request body must be a JSON object");
  return std::move(v.as_object());
}

const json::value* JsonReader::Get(std::string_view key, bool required) {
  seen_.emplace(key);
  const json::value* v = obj_.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) Fail(fmt::format("field '{}' is required", key));
    return nullptr;
  }
  return v;
}

void JsonReader::Fail(std::string message) {
  if (status_.ok()) status_ = InvalidArgument(std::move(message));
}

std::optional<std::string> JsonReader::String(std::string_view key, StringOpts opts) {
  const json::value* v = Get(key, opts.required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(fmt::format("field '{}' must be a string", key));
    return std::nullopt;
  }
  const json::string& s = v->get_string();
  if (s.size() < opts.min_len || s.size() > opts.max_len) {
    Fail(fmt::format("field '{}' must be {} to {} bytes long", key, opts.min_len, opts.max_len));
    return std::nullopt;
  }
  if (s.find('\0') != json::string::npos) {
    Fail(fmt::format("field '{}' must not contain NUL characters", key));
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<int64_t> JsonReader::Int(std::string_view key, bool required, int64_t min,
                                       int64_t max) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  int64_t out;
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64()) {
    Fail(fmt::format("field '{}' is out of range [{}, {}]", key, min, max));
    return std::nullopt;
  } else {
    Fail(fmt::format("field '{}' must be an integer", key));
    return std::nullopt;
  }
  if (out < min || out > max) {
    Fail(fmt::format("field '{}' is out of range [{}, {}]", key, min, max));
    return std::nullopt;
  }
  return out;
}

std::optional<double> JsonReader::Number(std::string_view key, bool required, double min,
                                         double max) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Fail(fmt::format("field '{}' must be a number", key));
    return std::nullopt;
  }
  double d = v->to_number<double>();
  if (!(d >= min && d <= max)) {  // also refuses NaN
    Fail(fmt::format("field '{}' is out of range [{}, {}]", key, min, max));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> JsonReader::Bool(std::string_view key, bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Fail(fmt::format("field '{}' must be true or false", key));
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<std::vector<std::string>> JsonReader::StringList(std::string_view key, bool required,
                                                               size_t max_items, size_t max_len) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    Fail(fmt::format("field '{}' must be an array of strings", key));
    return std::nullopt;
  }
  const json::array& a = v->get_array();
  if (a.size() > max_items) {
    Fail(fmt::format("field '{}' has more than {} items", key, max_items));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const json::value& item : a) {
    if (!item.is_string() || item.get_string().size() > max_len || item.get_string().empty()) {
      Fail(fmt::format("field '{}' must hold non-empty strings of at most {} bytes", key, max_len));
      return std::nullopt;
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> JsonReader::StringMap(std::string_view key,
                                                                        bool required,
                                                                        size_t max_items,
                                                                        size_t max_len) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object() || v->get_object().size() > max_items) {
    Fail(fmt::format("field '{}' must be an object of at most {} strings", key, max_items));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string() || kv.value().get_string().size() > max_len) {
      Fail(fmt::format("field '{}' must hold strings of at most {} bytes", key, max_len));
      return std::nullopt;
    }
    out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return out;
}

const json::array* JsonReader::Array(std::string_view key, bool required, size_t max_items) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Fail(fmt::format("field '{}' must be an array", key));
    return nullptr;
  }
  if (v->get_array().size() > max_items) {
    Fail(fmt::format("field '{}' has more than {} items", key, max_items));
    return nullptr;
  }
  return &v->get_array();
}

const json::object* JsonReader::Object(std::string_view key, bool required) {
  const json::value* v = Get(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(fmt::format("field '{}' must be an object", key));
    return nullptr;
  }
  return &v->get_object();
}

Status JsonReader::Finish() {
  if (!status_.ok()) return status_;
  for (const auto& kv : obj_) {
    if (!seen_.contains(std::string_view(kv.key()))) {
      return InvalidArgument(fmt::format("unknown field '{}'", std::string_view(kv.key())));
    }
  }
  return Status::Ok();
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

}  // namespace openlab
