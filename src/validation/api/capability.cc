// The validation capability's registration: its routes in order, what they answer, and its
// figures on the centre's public page.
#include "http/render.h"
#include "validation/api/routes.h"

namespace openlab::http {

void RegisterValidationCapability(Router& router, Api& api) {
  RegisterBenchmarkRoutes(router, api);
  RegisterImportRoutes(router, api);
  RegisterSubmissionRoutes(router, api);
  RegisterReportRoutes(router, api);
  DescribeValidationResponses(router);
  router.AddFigures([](Ctx& ctx, boost::json::array* out) -> Status {
    bool more = false;
    ASSIGN_OR_RETURN(int64_t n, validation::CountPublicBenchmarks(ctx.Tx(), 100000, &more));
    out->push_back(Figure("benchmarks_public", static_cast<double>(n), more));
    return Status::Ok();
  });
}

}  // namespace openlab::http
