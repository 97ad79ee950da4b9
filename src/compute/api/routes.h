// The compute capability's HTTP resources: allocations and their ledger, jobs, advance
// reservations and the operator views, one file each (*_routes.cc). Registered through
// the list in server/capabilities.cc.
#pragma once

#include <vector>

#include "auth/policy.h"
#include "compute/ledger/ledger.h"
#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

// Its policy actions (policy_rules.cc).
std::vector<auth::Rule> ComputePolicyRules();

using compute::Hours;  // resource-seconds inside, hours in the API (compute/ledger/ledger.h)

// Every route of the capability, in order (server/capabilities.cc calls it).
void RegisterComputeCapability(Router& router, Api& api);
void RegisterAllocationRoutes(Router& router, Api& api);
void RegisterJobRoutes(Router& router, Api& api);
void RegisterReservationRoutes(Router& router, Api& api);
void RegisterOpsRoutes(Router& router, Api& api);
// What those routes answer, for the OpenAPI document (responses.cc).
void DescribeComputeResponses(Router& router);

// Path {id} is an allocation (the caller's relation is to its project).
Status AllocationTarget(Ctx& ctx);
// Path {id} is a job (the caller's relation is to its project; self: its submitter).
Status JobTarget(Ctx& ctx);

}  // namespace openlab::http
