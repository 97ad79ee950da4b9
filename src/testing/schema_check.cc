#include "testing/schema_check.h"

#include <fmt/format.h>

namespace openlab::testing {

namespace json = boost::json;

namespace {

bool HasType(const json::value& v, std::string_view type) {
  if (type == "null") return v.is_null();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "integer") {
    return v.is_int64() || v.is_uint64() ||
           (v.is_double() &&
            v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double())));
  }
  if (type == "number") return v.is_number();
  return false;
}

// An RFC 3339 time as the API writes it: 2026-12-03T18:26:47.123Z.
bool IsTime(std::string_view s) {
  if (s.size() < 20 || s.back() != 'Z') return false;
  for (size_t i : {4u, 7u}) {
    if (s[i] != '-') return false;
  }
  return s[10] == 'T' && s[13] == ':' && s[16] == ':';
}

std::string Show(const json::value& v) {
  std::string s = json::serialize(v);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

}  // namespace

std::string SchemaMismatch(const json::value& v, const json::value& schema_value,
                           const json::object& doc, const std::string& at) {
  if (!schema_value.is_object()) return fmt::format("{}: the schema is not an object", at);
  const json::object& schema = schema_value.get_object();
  if (auto* ref = schema.if_contains("$ref")) {
    std::string name(ref->as_string());
    name = name.substr(name.rfind('/') + 1);
    const json::value* target = nullptr;
    if (auto* comps = doc.if_contains("components")) {
      if (auto* schemas = comps->as_object().if_contains("schemas")) {
        target = schemas->as_object().if_contains(name);
      }
    }
    if (target == nullptr) return fmt::format("{}: no schema named {}", at, name);
    return SchemaMismatch(v, *target, doc, at);
  }
  if (auto* any_of = schema.if_contains("anyOf")) {
    std::string first;
    for (const auto& option : any_of->as_array()) {
      std::string why = SchemaMismatch(v, option, doc, at);
      if (why.empty()) return "";
      if (first.empty()) first = why;
    }
    return first;
  }
  if (auto* type = schema.if_contains("type")) {
    bool ok = false;
    if (type->is_string()) {
      ok = HasType(v, type->get_string());
    } else {
      for (const auto& t : type->as_array()) ok = ok || HasType(v, t.as_string());
    }
    if (!ok) return fmt::format("{}: {} is not of type {}", at, Show(v), Show(*type));
  }
  if (auto* values = schema.if_contains("enum")) {
    bool ok = false;
    for (const auto& e : values->as_array()) ok = ok || e == v;
    if (!ok) return fmt::format("{}: {} is not one of {}", at, Show(v), Show(*values));
  }
  if (auto* format = schema.if_contains("format")) {
    if (v.is_string() && format->as_string() == "date-time" && !IsTime(v.get_string())) {
      return fmt::format("{}: {} is not an RFC 3339 time", at, Show(v));
    }
  }
  if (v.is_object()) {
    const json::object& o = v.get_object();
    const json::object* props = nullptr;
    if (auto* p = schema.if_contains("properties")) props = &p->as_object();
    if (auto* required = schema.if_contains("required")) {
      for (const auto& name : required->as_array()) {
        if (!o.contains(name.as_string())) {
          return fmt::format("{}: the property '{}' is missing", at, name.as_string());
        }
      }
    }
    const json::value* additional = schema.if_contains("additionalProperties");
    for (const auto& [key, value] : o) {
      std::string here = fmt::format("{}.{}", at, std::string_view(key));
      const json::value* sub = props ? props->if_contains(key) : nullptr;
      if (sub == nullptr && additional != nullptr) {
        if (additional->is_bool()) {
          if (!additional->get_bool()) {
            return fmt::format("{}: the property '{}' is not in the schema", at,
                               std::string_view(key));
          }
          continue;
        }
        sub = additional;
      }
      if (sub == nullptr) continue;
      std::string why = SchemaMismatch(value, *sub, doc, here);
      if (!why.empty()) return why;
    }
  }
  if (v.is_array()) {
    if (auto* items = schema.if_contains("items")) {
      const json::array& a = v.get_array();
      for (size_t i = 0; i < a.size(); ++i) {
        std::string why = SchemaMismatch(a[i], *items, doc, fmt::format("{}[{}]", at, i));
        if (!why.empty()) return why;
      }
    }
  }
  return "";
}

}  // namespace openlab::testing
