#include "http/schema_doc.h"

#include <cstdlib>
#include <iostream>
#include <vector>

namespace openlab::http {

namespace json = boost::json;

namespace {

// The alternatives of a type at its top level: "A|[B|C]" is {"A", "[B|C]"}.
std::vector<std::string_view> Alternatives(std::string_view t) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '[' || t[i] == '{') ++depth;
    if (t[i] == ']' || t[i] == '}') --depth;
    if (t[i] == '|' && depth == 0) {
      parts.push_back(t.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(t.substr(start));
  return parts;
}

}  // namespace

json::object TypeSchema(std::string_view t) {
  if (auto parts = Alternatives(t); parts.size() > 2 || (parts.size() == 2 && parts[1] != "null")) {
    json::array any_of;
    for (auto p : parts) any_of.push_back(TypeSchema(p));
    return {{"anyOf", std::move(any_of)}};
  }
  if (t.size() > 5 && t.substr(t.size() - 5) == "|null") {
    json::object inner = TypeSchema(t.substr(0, t.size() - 5));
    auto type = inner.find("type");
    if (type != inner.end() && type->value().is_string() && !inner.contains("enum")) {
      type->value() = json::array{type->value(), "null"};
      return inner;
    }
    return {{"anyOf", json::array{std::move(inner), json::object{{"type", "null"}}}}};
  }
  if (t.size() > 2 && t.front() == '[' && t.back() == ']') {
    return {{"type", "array"}, {"items", TypeSchema(t.substr(1, t.size() - 2))}};
  }
  if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
    return {{"type", "object"}, {"additionalProperties", TypeSchema(t.substr(1, t.size() - 2))}};
  }
  if (t.rfind("enum:", 0) == 0) {
    json::array values;
    std::string_view rest = t.substr(5);
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      values.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return {{"type", "string"}, {"enum", std::move(values)}};
  }
  if (t == "string" || t == "integer" || t == "number" || t == "boolean" || t == "null") {
    return {{"type", t}};
  }
  if (t == "time") return {{"type", "string"}, {"format", "date-time"}};
  if (t == "object") return {{"type", "object"}};
  if (t == "any") return {};
  if (!t.empty() && t.front() >= 'A' && t.front() <= 'Z' &&
      t.find_first_of("[]{}|:") == std::string_view::npos) {
    return {{"$ref", "#/components/schemas/" + std::string(t)}};
  }
  std::cerr << "openlab: cannot read the schema type '" << t << "'\n";
  std::abort();
}

std::vector<Prop> With(std::vector<Prop> base, const std::vector<Prop>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

json::object ObjectSchema(const std::vector<Prop>& props) {
  json::object properties;
  json::array required;
  for (const Prop& p : props) {
    bool optional = !p.name.empty() && p.name.back() == '?';
    std::string name = optional ? p.name.substr(0, p.name.size() - 1) : p.name;
    json::object s = TypeSchema(p.type);
    if (!p.description.empty()) s["description"] = p.description;
    properties[name] = std::move(s);
    if (!optional) required.emplace_back(name);
  }
  json::object o{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) o["required"] = std::move(required);
  o["additionalProperties"] = false;
  return o;
}

json::object PageSchema(const std::string& name) {
  return ObjectSchema({{"items", "[" + name + "]"},
                       {"next_cursor", "string|null",
                        "pass as ?cursor= for the next page; null on the last page"}});
}

}  // namespace openlab::http
