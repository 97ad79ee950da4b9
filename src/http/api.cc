#include "http/api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>

#include "common/crypto.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "common/log.h"
#include "http/capability.h"
#include "http/problem.h"
#include "tenants/audit.h"
#include "tenants/idempotency.h"
#include "tenants/tenants.h"

namespace openlab::http {

namespace json = boost::json;

Api::Api(store::Database* db, Clock* clock, Metrics* metrics,
         const std::vector<Capability>& capabilities, ApiOptions opts)
    : db_(db),
      clock_(clock),
      metrics_(metrics),
      opts_(opts),
      own_hash_pool_(opts.hasher ? nullptr
                                 : std::make_unique<HashPool>(&argon2id_, opts.hash_pool)),
      hasher_(opts.hasher ? opts.hasher : own_hash_pool_.get()),
      login_limiter_(opts.login_limits) {
  InstallPolicy(capabilities);
  RegisterAllRoutes(router_, *this, capabilities);
}

bool Api::ShouldLog(int status) {
  switch (opts_.request_log) {
    case ApiOptions::RequestLog::kOff:
      return false;
    case ApiOptions::RequestLog::kErrors:
      return status >= 400;
    case ApiOptions::RequestLog::kAll:
      if (status >= 400 || opts_.request_log_sample <= 1) return true;
      return succeeded_.fetch_add(1, std::memory_order_relaxed) %
                 static_cast<uint64_t>(opts_.request_log_sample) ==
             0;
  }
  return true;
}

size_t Api::LargestBody() const {
  size_t out = opts_.max_body_bytes;
  for (const Route& r : router_.routes()) out = std::max(out, r.max_body);
  return out;
}

size_t Api::MaxBodyFor(const std::string& method, const std::string& target) const {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return opts_.max_body_bytes;
  std::vector<std::string> segments;
  for (auto seg : url->segments()) segments.emplace_back(seg);
  auto m = router_.Find(method, segments);
  if (!m.ok() || m->route == nullptr || m->route->max_body == 0) return opts_.max_body_bytes;
  return m->route->max_body;
}

namespace {

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

bool ValidIdempotencyKey(const std::string& k) {
  if (k.empty() || k.size() > 128) return false;
  for (unsigned char c : k) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string OutcomeKind(const Status& s) {
  std::string t = ProblemTypeFor(s);
  return t.substr(t.rfind(':') + 1);
}

}  // namespace

HttpResponse Api::Handle(const HttpRequest& req) {
  auto start = std::chrono::steady_clock::now();
  Ctx ctx;
  ctx.req = &req;
  std::string rid = req.Header("x-request-id");
  ctx.request_id = ValidRequestId(rid) ? rid : NewId("req");
  ctx.now = clock_->NowMs();
  const Route* route = nullptr;
  HttpResponse resp;
  Status s;
  try {
    s = Dispatch(ctx, &route);
    if (s.ok()) resp = Render(ctx, *route);
  } catch (const std::exception& e) {
    // Nothing below is meant to throw; if it does, answer 500 and log it, never crash.
    s = Internal(e.what());
  }
  // A GET the API has no route for, outside /api/: the console's files, or the console itself.
  if (!s.ok() && s.kind() == "route-not-found" && opts_.console != nullptr &&
      ctx.path.rfind("/api/", 0) != 0) {
    if (auto page = opts_.console->Serve(req.method, ctx.path, req.Header("accept-encoding"),
                                         req.Header("if-none-match"))) {
      page->SetHeader("x-request-id", ctx.request_id);
      metrics_->Observe(
          "console", page->status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return std::move(*page);
    }
  }
  if (!s.ok()) {
    resp = ProblemResponse(s, ctx.path.empty() ? "/" : ctx.path, ctx.request_id);
    if (!ctx.allow.empty()) resp.SetHeader("allow", ctx.allow);
    for (const auto& [k, v] : ctx.problem_headers) resp.SetHeader(k, v);
    if (s.code() == StatusCode::kUnauthenticated) resp.SetHeader("www-authenticate", "Bearer");
    if (s.code() == StatusCode::kInternal) {
      Log(LogLevel::kError, "internal error",
          {{"request_id", ctx.request_id}, {"error", s.message()}});
    }
  }
  resp.SetHeader("x-request-id", ctx.request_id);
  resp.SetHeader("cache-control", "no-store");
  resp.SetHeader("x-content-type-options", "nosniff");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string route_name = route ? route->action : "unmatched";
  metrics_->Observe(route_name, resp.status, secs);
  if (ShouldLog(resp.status)) {
    Log(LogLevel::kInfo, "request",
        {{"request_id", ctx.request_id},
         {"method", req.method},
         {"path", ctx.path},
         {"route", route_name},
         {"status", resp.status},
         {"actor", ctx.principal.Actor()},
         {"duration_ms", secs * 1000}});
  }
  return resp;
}

Status Api::Dispatch(Ctx& ctx, const Route** route_out) {
  const HttpRequest& req = *ctx.req;
  auto url = boost::urls::parse_origin_form(req.target);
  if (!url) {
    ctx.path = "/";
    return InvalidArgument("the request target is not a valid URL path");
  }
  ctx.path = std::string(url->encoded_path());
  std::vector<std::string> segments;
  for (auto seg : url->segments()) segments.emplace_back(seg);
  for (auto param : url->params()) ctx.query.emplace(param.key, param.value);

  ASSIGN_OR_RETURN(Router::Match m, router_.Find(req.method, segments));
  if (m.route == nullptr) {
    if (!m.allowed.empty()) {
      std::string allow;
      for (auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      ctx.allow = allow;
      return InvalidArgument(
                 fmt::format("{} is not allowed on {}; use {}", req.method, ctx.path, allow))
          .WithKind("method-not-allowed");
    }
    return NotFound(fmt::format("no route for {} {}", req.method, ctx.path))
        .WithKind("route-not-found");
  }
  const Route& route = *m.route;
  *route_out = &route;
  ctx.params = std::move(m.params);
  size_t max_body = route.max_body > 0 ? route.max_body : opts_.max_body_bytes;
  if (req.body.size() > max_body) {
    return InvalidArgument(fmt::format("the request body is larger than {} bytes", max_body))
        .WithKind("payload-too-large");
  }

  if (route.store == StoreUse::kNone) {
    bool replayed = false;
    return Process(ctx, route, &replayed, nullptr);
  }
  if (route.store == StoreUse::kRead) {
    bool cacheable = opts_.read_cache && route.cacheable && db_->generation_is_exact();
    std::string key;
    uint64_t generation = 0;
    if (cacheable) {
      key = req.method + " " + req.target + "\n" + req.Header("authorization") + "\n" +
            req.Header("cookie") + "\n" + req.Header("accept");
      generation = db_->generation();  // read before the query: see read_cache.h
      if (auto hit = read_cache_.Get(key, generation, ctx.now)) {
        metrics_->read_cache_hits++;
        ctx.status = hit->status;
        ctx.headers = std::move(hit->headers);
        ctx.content_type = std::move(hit->content_type);
        ctx.raw_body = std::move(hit->body);
        ctx.principal.authenticated = hit->actor != "anonymous";
        ctx.principal.user_id = hit->actor;
        return Status::Ok();
      }
    }
    bool replayed = false;
    Ctx fresh = ctx;
    Status s = db_->Read([&](store::Tx& tx) {
      ctx.tx = &tx;
      return Process(ctx, route, &replayed, nullptr);
    });
    ctx.tx = nullptr;
    if (s.ok() && ctx.wait_then_ask_again) {
      // Nothing new yet (a log being followed): wait outside the transaction, then answer what
      // there is then, once.
      auto wait = std::move(ctx.wait_then_ask_again);
      wait();
      ctx = std::move(fresh);
      ctx.waited = true;
      s = db_->Read([&](store::Tx& tx) {
        ctx.tx = &tx;
        return Process(ctx, route, &replayed, nullptr);
      });
      ctx.tx = nullptr;
    }
    if (route.audit_own_effects) {
      if (s.ok()) {
        Status as = db_->Write([&](store::Tx& tx) {
          return tenants::AppendAudit(
              tx, tenants::AuditEntry{"", ctx.now, ctx.principal.Actor(), route.action,
                                      ctx.audit_object.empty() ? ctx.target_id : ctx.audit_object,
                                      ctx.request_id, "ok", ctx.audit_detail});
        });
        if (!as.ok()) return as;
      } else {
        AuditFailure(ctx, route, s);
      }
    }
    if (s.ok() && cacheable && ctx.status == 200 && !ctx.stream) {
      if (!ctx.raw_body) ctx.raw_body = json::serialize(ctx.json);
      read_cache_.Put(key, generation,
                      CachedResponse{ctx.status, ctx.headers, ctx.content_type, *ctx.raw_body,
                                     ctx.principal.Actor(), ctx.principal.expires_at});
    }
    return s;
  }

  // A write: everything in one transaction, then the audit of a failure in another.
  if (route.prepare) {
    if (route.authorize_before_prepare) {
      Status as = db_->Read([&](store::Tx& tx) {
        ctx.tx = &tx;
        return Authorize(ctx, route);
      });
      ctx.tx = nullptr;
      if (!as.ok()) {
        AuditFailure(ctx, route, as);
        return as;
      }
    }
    Status ps = route.prepare(ctx);
    if (ps.kind() == kHashingBusyKind) ctx.problem_headers.emplace_back("retry-after", "1");
    if (!ps.ok()) {
      AuditFailure(ctx, route, ps);
      return ps;
    }
  }
  bool replayed = false;
  HttpResponse replay;
  Ctx attempt = ctx;
  // The store retries the closure after a lost serialization race (also a lost race to store
  // the same Idempotency-Key, which then replays the winner), so each try starts afresh.
  Status s = db_->Write([&](store::Tx& tx) {
    attempt = ctx;
    attempt.tx = &tx;
    replayed = false;
    replay = HttpResponse();
    return Process(attempt, route, &replayed, &replay);
  });
  ctx = std::move(attempt);
  ctx.tx = nullptr;
  if (s.ok() && !replayed) {
    for (const auto& news : ctx.after_commit) news();
  }
  if (s.ok() && replayed) {
    ctx.raw_body = replay.body;
    ctx.status = replay.status;
    ctx.headers = replay.headers;
    ctx.content_type = replay.Header("content-type");
    ctx.headers.emplace_back("idempotent-replayed", "true");
    return s;
  }
  if (!s.ok()) AuditFailure(ctx, route, s);
  return s;
}

void Api::AuditFailure(const Ctx& ctx, const Route& route, const Status& s) {
  tenants::AuditEntry e{"",
                        ctx.now,
                        ctx.principal.Actor(),
                        route.action,
                        ctx.audit_object.empty() ? ctx.target_id : ctx.audit_object,
                        ctx.request_id,
                        OutcomeKind(s),
                        ""};
  Status as = db_->Write([&](store::Tx& tx) { return tenants::AppendAudit(tx, e); });
  if (!as.ok()) {
    Log(LogLevel::kError, "cannot record the audit entry of a failed write",
        {{"request_id", ctx.request_id}, {"error", as.message()}});
  }
}

Status Api::Resolve(Ctx& ctx, const Route& route) {
  return route.target != nullptr ? route.target(ctx) : Status::Ok();
}

Status Api::Authorize(Ctx& ctx, const Route& route) {
  const HttpRequest& req = *ctx.req;
  const auth::Rule* rule = auth::FindRule(route.action);
  bool is_write = route.store == StoreUse::kWrite;
  // Anonymous callers get as far as the policy where the object itself may be public (for
  // reading it: anonymous writes are only ever the public routes', such as logging in).
  unsigned public_bits = is_write ? auth::kAnyone : (auth::kAnyone | auth::kMaybePublic);
  bool is_public = rule != nullptr && (rule->who & public_bits);

  if (ctx.tx != nullptr) {
    auto principal =
        auth::Authenticate(ctx.Tx(), req.Header("authorization"), req.Header("cookie"), ctx.now);
    // Stale credentials do not stand in the way of public routes (logging in again, say).
    if (!principal.ok() && !is_public) return principal.status();
    if (principal.ok()) ctx.principal = std::move(principal).value();
  }
  if (!is_public && !ctx.principal.authenticated) {
    return DecisionStatus(auth::Decision::kUnauthenticated, route.action);
  }
  if (is_write && ctx.principal.via_cookie &&
      !ConstantTimeEquals(req.Header("x-csrf-token"), ctx.principal.csrf_token)) {
    return PermissionDenied(
               "a cookie-authenticated write needs the X-CSRF-Token header from the login reply")
        .WithKind("csrf");
  }
  if (ctx.tx != nullptr) RETURN_IF_ERROR(Resolve(ctx, route));
  return DecisionStatus(auth::Decide(ctx.principal, route.action, ctx.relation), route.action);
}

Status Api::Process(Ctx& ctx, const Route& route, bool* replayed, HttpResponse* replay) {
  const HttpRequest& req = *ctx.req;
  bool is_write = route.store == StoreUse::kWrite;
  RETURN_IF_ERROR(Authorize(ctx, route));

  // Idempotency-Key on creating POSTs.
  std::string idem_key = req.Header("idempotency-key");
  bool use_idem = is_write && req.method == "POST" && !idem_key.empty() && replay != nullptr &&
                  ctx.principal.authenticated;
  std::string req_hash;
  if (use_idem) {
    if (!ValidIdempotencyKey(idem_key)) {
      return InvalidArgument("Idempotency-Key must be 1-128 visible ASCII characters");
    }
    req_hash = Sha256Hex(req.method + " " + ctx.path + "\n" + req.body);
    ASSIGN_OR_RETURN(auto stored,
                     tenants::LookupIdempotent(ctx.Tx(), ctx.principal.Actor(), idem_key));
    if (stored) {
      if (stored->request_hash != req_hash) {
        return InvalidArgument(
                   "this Idempotency-Key was used for a different request; use a new key")
            .WithKind("idempotency-key-reused");
      }
      if (stored->status == 0) {
        return Conflict(fmt::format(
            "the first request with this Idempotency-Key already succeeded ({}); its response "
            "held a secret that is shown only once",
            stored->body));
      }
      *replayed = true;
      replay->status = stored->status;
      replay->body = stored->body;
      boost::system::error_code ec;
      json::value h = json::parse(stored->headers, ec);
      if (!ec && h.is_object()) {
        for (auto& kv : h.as_object()) {
          if (kv.value().is_string()) {
            replay->headers.emplace_back(std::string(kv.key()),
                                         std::string(kv.value().get_string()));
          }
        }
      }
      return Status::Ok();
    }
  }

  RETURN_IF_ERROR(route.handler(ctx));
  if (ctx.status == 200 && route.success_status != 200) ctx.status = route.success_status;

  if (is_write) {
    if (use_idem) {
      tenants::StoredResponse sr;
      sr.request_hash = req_hash;
      if (ctx.sensitive) {
        sr.status = 0;  // marker: the response is not replayable
        sr.body = ctx.audit_object;
      } else {
        sr.status = ctx.status;
        sr.body = ctx.raw_body ? *ctx.raw_body : json::serialize(ctx.json);
        json::object h;
        h["content-type"] = ctx.content_type;
        for (auto& [k, v] : ctx.headers) h[k] = v;
        sr.headers = json::serialize(h);
      }
      Status st = tenants::StoreIdempotent(ctx.Tx(), ctx.principal.Actor(), idem_key, sr, ctx.now);
      if (st.code() == StatusCode::kAlreadyExists) {
        return Aborted("concurrent request with the same Idempotency-Key")
            .WithKind("idempotency-race");
      }
      RETURN_IF_ERROR(st);
    }
    RETURN_IF_ERROR(tenants::AppendAudit(
        ctx.Tx(), tenants::AuditEntry{"", ctx.now, ctx.principal.Actor(), route.action,
                                      ctx.audit_object.empty() ? ctx.target_id : ctx.audit_object,
                                      ctx.request_id, "ok", ctx.audit_detail}));
  }
  return Status::Ok();
}

HttpResponse Api::Render(Ctx& ctx, const Route& route) {
  HttpResponse r;
  r.status = ctx.status;
  r.headers = ctx.headers;
  if (ctx.raw_body) {
    r.body = std::move(*ctx.raw_body);
  } else if (ctx.status != 204) {
    r.body = json::serialize(ctx.json);
  }
  if (ctx.status != 204) r.SetHeader("content-type", ctx.content_type);
  if (ctx.stream && ctx.req->method != "HEAD") {
    r.stream = std::move(ctx.stream);
    r.stream_length = ctx.stream_length;
    r.body.clear();
  }
  if (ctx.req->method == "HEAD") r.body.clear();
  return r;
}

}  // namespace openlab::http
