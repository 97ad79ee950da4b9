// RFC 9457 problem+json: the one mapping from Status to HTTP status and problem type.
#pragma once

#include <string>

#include "common/status.h"
#include "http/http_types.h"

namespace openlab::http {

// The HTTP status for a Status (honouring its kind).
int HttpStatusFor(const Status& s);
// The stable problem type URI for a Status, e.g. "urn:openlab:problem:not-found".
std::string ProblemTypeFor(const Status& s);
// A complete problem+json response.
HttpResponse ProblemResponse(const Status& s, const std::string& instance,
                             const std::string& request_id);

}  // namespace openlab::http
