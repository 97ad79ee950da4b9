// The validation capability's HTTP resources: benchmarks, their phases, invitations and teams
// (benchmarks_routes.cc), submissions and leaderboards (submissions_routes.cc), signed
// validation reports and the key they are signed with (reports_routes.cc). Registered
// through the list in server/capabilities.cc.
#pragma once

#include <boost/json.hpp>
#include <vector>

#include "auth/policy.h"
#include "http/api.h"
#include "http/router.h"
#include "validation/validation.h"

namespace openlab::http {

// Its policy actions (policy_rules.cc).
std::vector<auth::Rule> ValidationPolicyRules();

// Every route of the capability, in order (server/capabilities.cc calls it).
void RegisterValidationCapability(Router& router, Api& api);
void RegisterBenchmarkRoutes(Router& router, Api& api);
void RegisterSubmissionRoutes(Router& router, Api& api);
void RegisterReportRoutes(Router& router, Api& api);
void RegisterImportRoutes(Router& router, Api& api);  // Codabench bundles (import_routes.cc)
// What those routes answer (responses.cc): RegisterValidationCapability calls it last.
void DescribeValidationResponses(Router& router);

// The caller's relation to a benchmark: its project's and organisation's roles; meta_visible
// (may see it), data_audience (may take part), public_meta (anyone may see it).
Status RelateToBenchmark(Ctx& ctx, const validation::Benchmark& b);
Status BenchmarkTarget(Ctx& ctx);  // path {id} is a benchmark (its id or name)
// Path {id} is a submission (self: its submitter, or a member of its team).
Status SubmissionTarget(Ctx& ctx);
Status TeamTarget(Ctx& ctx);  // path {id} is a team (self: a member)
Status ReportTarget(Ctx& ctx);  // path {id} is a report
// Query parameter "project_id" names a project (for routes whose body is not JSON).
Status ProjectInQueryTarget(Ctx& ctx);

// Organisers (the benchmark's project, the organisation's admins, the operator) see everything
// of a benchmark: its private ranking during a phase, every submission.
bool IsOrganiser(const Ctx& ctx);

boost::json::object RenderBenchmark(const validation::Benchmark& b);
boost::json::object RenderSubmission(const validation::Submission& s);

}  // namespace openlab::http
