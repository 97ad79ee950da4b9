// The data commons' HTTP resources: datasets and versions, with the operator's data routes
// (datasets_routes.cc), uploads (uploads_routes.cc), access requests, contributions, flags and
// the metadata documents (review_routes.cc), and export requests of sealed jobs
// (exports_routes.cc). Registered through the list in server/capabilities.cc.
#pragma once

#include <string>
#include <vector>

#include "auth/policy.h"
#include "data/catalog/datasets.h"
#include "http/api.h"
#include "http/router.h"

namespace openlab::http {

// Its policy actions (policy_rules.cc).
std::vector<auth::Rule> DataPolicyRules();

// Every route of the capability, in order (server/capabilities.cc calls it).
void RegisterDataCapability(Router& router, Api& api);
void RegisterDatasetRoutes(Router& router, Api& api);
void RegisterDataStoreRoutes(Router& router, Api& api);  // quotas, fsck, gc
void RegisterUploadRoutes(Router& router, Api& api);
void RegisterReviewRoutes(Router& router, Api& api);
void RegisterExportRoutes(Router& router, Api& api);
// What each of those routes answers (responses.cc): RegisterDataCapability calls it last.
void DescribeDataResponses(Router& router);

// The caller's relation to a dataset, from its owner and access level.
Status RelateToDataset(Ctx& ctx, const data::Dataset& d);
// To an object of a dataset: the relation is to the dataset; self = `author`.
Status RelateViaDataset(Ctx& ctx, const std::string& object_id, const std::string& dataset_id,
                        const std::string& author);

Status DatasetTarget(Ctx& ctx);             // path {id} is a dataset
Status DatasetOwnerInBodyTarget(Ctx& ctx);  // body "project_id" or "org_id": a dataset's owner
// Path {id} is an upload (self: the uploader, while an owner of the dataset or the contributor
// of its contribution).
Status UploadTarget(Ctx& ctx);
Status ContributionTarget(Ctx& ctx);   // path {id} is a contribution (self: the contributor)
Status AccessRequestTarget(Ctx& ctx);  // path {id} is an access request (self: the requester)
Status FlagTarget(Ctx& ctx);           // path {id} is a file flag
// Path {id} is an export request: the relation is to the restricted dataset whose stewards
// decide (self: the requester).
Status ExportTarget(Ctx& ctx);

}  // namespace openlab::http
