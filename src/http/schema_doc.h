// Response schemas for the OpenAPI document, written compactly next to the renderers they
// describe (each capability's `api/responses.cc`). A type is one of:
//   string, integer, number, boolean, null, time (an RFC 3339 string), object (any object), any;
//   enum:a,b,c (one of these strings);
//   Name (a schema of components/schemas: it starts with a capital letter);
//   [T] (an array of T), {T} (an object whose values are T), T|U (T or U; T|null: T or null).
// An object lists its properties; a property whose name ends in '?' may be absent, every other
// one is always there, and nothing else is (additionalProperties false), so that the API tests,
// which check every answer against its schema, catch a field added or dropped on either side.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace openlab::http {

struct Prop {
  std::string name;  // "script?": may be absent
  std::string type;
  std::string description = "";
};

// The JSON Schema of a type (above). Aborts on a type it cannot read: a programming error.
boost::json::object TypeSchema(std::string_view type);
// An object with exactly these properties.
boost::json::object ObjectSchema(const std::vector<Prop>& props);
// `base`'s properties, then `more`: for an answer that renders one object and adds to it.
std::vector<Prop> With(std::vector<Prop> base, const std::vector<Prop>& more);
// A page of a list: {"items": [name], "next_cursor": string|null}.
boost::json::object PageSchema(const std::string& name);

}  // namespace openlab::http
