// The system routes: liveness, readiness, metrics and the OpenAPI document.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "http/api.h"
#include "http/routes.h"
#include "http/schema_doc.h"

namespace openlab::http {

namespace json = boost::json;

namespace {

// ---- system

Status Healthz(Ctx& ctx) {
  ctx.json = json::object{{"status", "ok"}};
  return Status::Ok();
}

}  // namespace

void RegisterSystemRoutes(Router& router, Api& api) {
  auto add = [&](Route r) { router.Add(std::move(r)); };
  // System.
  add({"GET", "/healthz", "health.live", nullptr, StoreUse::kNone, Healthz,
       "Liveness: the process is up"});
  add({"GET", "/readyz", "health.ready", nullptr, StoreUse::kNone,
       [&api](Ctx& ctx) -> Status {
         Status s = api.db()->Ping();
         if (!s.ok()) return Unavailable("the store is not reachable: " + s.message());
         ctx.json = json::object{{"status", "ready"}};
         return Status::Ok();
       },
       "Readiness: the store answers"});
  {
    // A read of the store only to authenticate the token (metrics:read); never cached, since
    // the counts change without a store write.
    Route r{"GET",
            "/metrics",
            "metrics.read",
            nullptr,
            StoreUse::kRead,
            [&api](Ctx& ctx) -> Status {
              ctx.raw_body = api.metrics()->Render(api.db()->error_count());
              ctx.content_type = "text/plain; version=0.0.4";
              return Status::Ok();
            },
            "Prometheus metrics (a token with metrics:read, of an operator or auditor)"};
    r.cacheable = false;
    add(std::move(r));
  }
  {
    // The centre's public page: its name and what it lends now, each capability's figures.
    Route r{"GET",
            "/api/v1/centre",
            "centre.read",
            nullptr,
            StoreUse::kRead,
            [&api, &router](Ctx& ctx) -> Status {
              json::array figures;
              for (const auto& f : router.figures()) RETURN_IF_ERROR(f(ctx, &figures));
              ctx.json = json::object{{"name", api.options().centre_name},
                                      {"description", api.options().centre_description},
                                      {"figures", std::move(figures)}};
              return Status::Ok();
            },
            "The centre's name and its live figures (GPUs and how many are busy, jobs running "
            "and queued, datasets listed, active projects), for anyone"};
    add(std::move(r));
  }
  add({"GET", "/api/v1/openapi.json", "openapi.read", nullptr, StoreUse::kNone,
       [&router, &api](Ctx& ctx) -> Status {
         boost::json::object doc = OpenApiDocument(router);
         // The key that signs validation reports, for verifiers who read the document.
         if (!api.options().report_key_document.empty()) {
           doc["info"].as_object()["x-openlab-report-key"] =
               boost::json::parse(api.options().report_key_document);
         }
         ctx.json = std::move(doc);
         return Status::Ok();
       },
       "This API's OpenAPI 3.1 document"});
  router.Describe(
      {{"Health", ObjectSchema({{"status", "enum:ok,ready"}})},
       {"Figure", ObjectSchema({{"key", "string",
                                 "gpus, gpus_busy, cpus, jobs_running, jobs_queued, "
                                 "datasets_listed, projects_active..."},
                                {"value", "number"},
                                {"more", "boolean", "there are more than value"},
                                {"type?", "string", "the accelerator type"}})},
       {"Centre",
        ObjectSchema({{"name", "string"}, {"description", "string"}, {"figures", "[Figure]"}})}},
      {{"GET /healthz", "Health"},
       {"GET /api/v1/centre", "Centre"},
       {"GET /readyz", "Health"},
       {"GET /metrics", "text/plain"},
       {"GET /api/v1/openapi.json", "object"}});
}

std::vector<auth::Rule> SystemPolicyRules() {
  using namespace auth;
  return {
      // Public probes and documents.
      {"health.live", "", kAnyone, ""},
      {"health.ready", "", kAnyone, ""},
      // Request counts per route tell who is busy with what: the centre's staff only, with a
      // token that carries the metrics scope (a scraper's token needs nothing else).
      {"metrics.read", "metrics:read", kReaders, ""},
      {"openapi.read", "", kAnyone, ""},
      {"centre.read", "", kAnyone, ""},
  };
}

}  // namespace openlab::http
