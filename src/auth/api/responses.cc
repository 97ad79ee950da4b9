// What the auth capability's routes answer (tokens_routes.cc), for the OpenAPI document and the
// API tests that hold every answer to it.
#include "auth/api/routes.h"
#include "http/schema_doc.h"
#include "tenants/api/routes.h"

namespace openlab::http {

void DescribeAuthResponses(Router& router) {
  const std::vector<Prop> token = {{"id", "string"},           {"user_id", "string"},
                                   {"name", "string"},         {"scopes", "[string]"},
                                   {"created_at", "time"},     {"expires_at", "time|null"},
                                   {"revoked_at", "time|null"}};
  router.Describe(
      {{"Token", ObjectSchema(token)},
       {"NewToken",
        ObjectSchema(
            With(token, {{"secret", "string", "shown once: send it as 'Authorization: Bearer'"}}))},
       {"Me", ObjectSchema(With(UserProperties(),
                                {{"scopes", "[string]", "what this token or session may do"},
                                 {"auth", "enum:session,token"},
                                 {"token_id?", "string"},
                                 {"csrf_token?", "string",
                                  "a cookie session's: send as X-CSRF-Token with every write"}}))},
       {"Session", ObjectSchema({{"user", "User"},
                                 {"csrf_token", "string", "send as X-CSRF-Token with every write"},
                                 {"expires_at", "time"}})}},
      {{"POST /api/v1/login", "Session"},
       {"GET /api/v1/me", "Me"},
       {"GET /api/v1/tokens", "Token"},
       {"POST /api/v1/tokens", "NewToken"},
       {"GET /api/v1/tokens/{id}", "Token"}});
}

}  // namespace openlab::http
