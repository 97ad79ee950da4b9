// Checks a JSON value against a schema of the OpenAPI document (the subset http/schema_doc.h
// writes: type, enum, format date-time, properties, required, additionalProperties, items, $ref,
// anyOf), so that the API tests hold every answer to what the document promises.
#pragma once

#include <boost/json.hpp>
#include <string>

namespace openlab::testing {

// "" when `v` fits `schema`; else where and why it does not ("$.items[3].state: ..."). `$ref`s
// are looked up in `doc` (the whole OpenAPI document).
std::string SchemaMismatch(const boost::json::value& v, const boost::json::value& schema,
                           const boost::json::object& doc, const std::string& at = "$");

}  // namespace openlab::testing
