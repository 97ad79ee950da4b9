#include "http/routes.h"

#include "auth/api/routes.h"
#include "compute/api/routes.h"
#include "data/api/routes.h"
#include "tenants/api/routes.h"

namespace openlab::http {

void RegisterAllRoutes(Router& router, Api& api) {
  RegisterSystemRoutes(router, api);
  RegisterSessionRoutes(router, api);
  RegisterTenantRoutes(router, api);
  RegisterAllocationRoutes(router, api);
  RegisterJobRoutes(router, api);
  RegisterReservationRoutes(router, api);
  RegisterOpsRoutes(router, api);
  RegisterTokenRoutes(router, api);
  RegisterAuditRoutes(router, api);
  RegisterDatasetRoutes(router, api);
  RegisterUploadRoutes(router, api);
  RegisterDataStoreRoutes(router, api);
  RegisterReviewRoutes(router, api);
  RegisterExportRoutes(router, api);
}

}  // namespace openlab::http
