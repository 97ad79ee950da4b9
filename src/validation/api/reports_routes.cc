// Signed validation reports: the owner of a scored submission asks for one, and gets an in-toto
// statement (benchmark, phase, the dataset versions, the submission's digest, the scores with
// their definitions) in a DSSE envelope signed with the centre's key (validation/report/
// report.h); anyone holding the report's id may read it, the customer a startup shows it to
// included, and check it offline with `openlab report verify` against the key served at
// /.well-known/openlab-report-key.json.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/version.h"
#include "http/render.h"
#include "validation/api/routes.h"
#include "validation/report/report.h"
#include "validation/scorer.h"
#include "validation/validation.h"

namespace openlab::http {

namespace json = boost::json;
namespace report = validation::report;

namespace {

// What a report states about a scored submission: the public scores always; the private ones
// once the phase has ended (before, they are the organisers' alone).
StatusOr<report::ReportContents> ContentsOf(Ctx& ctx, const validation::Submission& s,
                                            const ApiOptions& opts) {
  if (s.state != "scored") {
    return Conflict(
        fmt::format("submission {} is {}; a report is issued for a scored one", s.id, s.state));
  }
  ASSIGN_OR_RETURN(auto b, validation::GetBenchmark(ctx.Tx(), s.benchmark_id));
  ASSIGN_OR_RETURN(const validation::Phase* phase, b.FindPhase(s.phase_id, ctx.now));
  report::ReportContents c;
  c.subject_name = "submission/" + s.id;
  c.subject_sha256 = s.sha256;
  c.benchmark_id = b.id;
  c.benchmark_title = b.title;
  c.phase_id = phase->id;
  c.phase_name = phase->name;
  if (!phase->input_version_id.empty()) {
    c.datasets.push_back(
        {"participant_inputs", "dataset/" + phase->input_dataset_id, phase->input_version_id});
  }
  c.datasets.push_back({"ground_truth", "dataset/" + phase->truth_dataset_id, s.truth_version_id});
  bool ended = ctx.now >= phase->ends_at;
  for (const auto& m : b.metrics) {
    const validation::MetricInfo* info = validation::FindMetric(b.task_type, m.name);
    std::string direction = m.higher_is_better ? "higher_is_better" : "lower_is_better";
    std::string definition = info != nullptr ? info->definition : m.name;
    if (auto it = s.scores_public.find(m.name); it != s.scores_public.end()) {
      c.metrics.push_back({m.name, it->second, "public", direction, definition});
    }
    if (auto it = s.scores_private.find(m.name); ended && it != s.scores_private.end()) {
      c.metrics.push_back({m.name, it->second, "private", direction, definition});
    }
  }
  if (c.metrics.empty()) return Conflict("the submission has no scores to report yet");
  c.scored_at_ms = s.scored_at;
  c.issued_at_ms = ctx.now;
  c.openlab_version = std::string(kVersion);
  c.centre_name = opts.centre_name;
  c.centre_url = opts.public_url;
  return c;
}

StatusOr<json::object> RenderReport(const validation::Report& r) {
  boost::system::error_code ec;
  json::value envelope = json::parse(r.envelope, ec);
  if (ec || !envelope.is_object()) return Internal("a stored report is not JSON");
  std::string payload;
  const json::value* p = envelope.as_object().if_contains("payload");
  if (p == nullptr || !p->is_string() ||
      !report::Base64DecodeStrict(std::string(p->as_string()), &payload)) {
    return Internal("a stored report has no payload");
  }
  json::value statement = json::parse(payload, ec);
  if (ec) return Internal("a stored report's statement is not JSON");
  return json::object{{"id", r.id},
                      {"submission_id", r.submission_id},
                      {"created_at", TimeOrNull(r.created_at)},
                      {"sha256", r.sha256},
                      {"envelope", std::move(envelope)},
                      {"statement", std::move(statement)}};
}

Status CreateReportHandler(Ctx& ctx, const ApiOptions& opts) {
  if (opts.report_key == nullptr) return Unavailable("this server signs no reports");
  ASSIGN_OR_RETURN(auto s, validation::GetSubmission(ctx.Tx(), ctx.target_id));
  ASSIGN_OR_RETURN(auto contents, ContentsOf(ctx, s, opts));
  ASSIGN_OR_RETURN(std::string statement, report::Statement(contents));
  ASSIGN_OR_RETURN(std::string envelope, report::SignEnvelope(*opts.report_key, statement));
  ASSIGN_OR_RETURN(auto r, validation::AddReport(ctx.Tx(), s.id, ctx.principal.user_id,
                                                 envelope + "\n", ctx.now));
  ctx.audit_object = r.id;
  ctx.audit_detail = fmt::format("submission={} sha256={}", s.id, r.sha256);
  ASSIGN_OR_RETURN(json::object body, RenderReport(r));
  ctx.status = 201;
  ctx.headers.emplace_back("location", "/api/v1/reports/" + r.id);
  ctx.json = std::move(body);
  return Status::Ok();
}

// A submission's reports, to whoever may have one issued: their ids (each one the report's
// capability), when and the envelope's digest.
Status ListReportsHandler(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto page, ReadPage(ctx));
  ASSIGN_OR_RETURN(auto items,
                   validation::ListReports(ctx.Tx(), ctx.target_id, page.after, page.limit));
  RenderPage(
      ctx, items, page,
      [](const validation::Report& r) {
        return json::object{{"id", r.id},
                            {"submission_id", r.submission_id},
                            {"created_at", TimeOrNull(r.created_at)},
                            {"sha256", r.sha256}};
      },
      +[](const validation::Report& r) -> const std::string& { return r.id; });
  return Status::Ok();
}

}  // namespace

Status ReportTarget(Ctx& ctx) {
  ASSIGN_OR_RETURN(auto r, validation::GetReport(ctx.Tx(), ctx.Param("id")));
  ctx.target_id = r.id;
  return Status::Ok();
}

void RegisterReportRoutes(Router& router, Api& api) {
  auto add = [&](Route r) { router.Add(std::move(r)); };
  const ApiOptions& opts = api.options();
  add({"POST",
       "/api/v1/submissions/{id}/reports",
       "reports.create",
       SubmissionTarget,
       StoreUse::kWrite,
       [&opts](Ctx& ctx) { return CreateReportHandler(ctx, opts); },
       "Issue a signed validation report of a scored submission (its owner or team)",
       {},
       {},
       false,
       201});
  Route list{"GET",
             "/api/v1/submissions/{id}/reports",
             "reports.list",
             SubmissionTarget,
             StoreUse::kRead,
             ListReportsHandler,
             "The reports issued of a submission (its owner or team), in id order",
             {},
             {},
             true};
  add(std::move(list));
  add({"GET", "/api/v1/reports/{id}", "reports.read", ReportTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto r, validation::GetReport(ctx.Tx(), ctx.target_id));
         ASSIGN_OR_RETURN(ctx.json, RenderReport(r));
         return Status::Ok();
       },
       "A validation report: its signed envelope and the statement it carries (anyone holding "
       "its id)"});
  add({"GET", "/api/v1/reports/{id}/envelope", "reports.read", ReportTarget, StoreUse::kRead,
       [](Ctx& ctx) -> Status {
         ASSIGN_OR_RETURN(auto r, validation::GetReport(ctx.Tx(), ctx.target_id));
         ctx.raw_body = r.envelope;
         ctx.content_type = "application/json";
         ctx.headers.emplace_back("content-disposition",
                                  fmt::format("attachment; filename=\"{}.json\"", r.id));
         return Status::Ok();
       },
       "The signed envelope as issued, for `openlab report verify`"});
  add({"GET", "/.well-known/openlab-report-key.json", "reports.key", nullptr, StoreUse::kNone,
       [&opts](Ctx& ctx) -> Status {
         if (opts.report_key_document.empty()) return NotFound("this server signs no reports");
         ctx.raw_body = opts.report_key_document;
         ctx.content_type = "application/json";
         return Status::Ok();
       },
       "The centre's public key that validation reports are signed with (Ed25519)"});
}

}  // namespace openlab::http
