// libFuzzer target: raw bytes -> HTTP parsing (Boost.Beast, as the server does) -> routing,
// authentication, policy and handlers, in process, over a real SQLite store. Anything but a
// well-formed response (a crash, a sanitizer report, a 5xx) is a finding.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>

#include "auth/authn.h"
#include "http/beast_request.h"
#include "common/crypto.h"
#include "common/log.h"
#include "store/db.h"
#include "testing/harness.h"

namespace {

openlab::testing::ApiHarness* Harness() {
  static openlab::testing::ApiHarness* h = [] {
    openlab::SetLogLevel(openlab::LogLevel::kError);
    auto* harness = new openlab::testing::ApiHarness(openlab::testing::Backend::kSqlite);
    // A fixed token so the corpus can exercise authenticated routes: "olt_fuzz".
    auto s = harness->db().Write([](openlab::store::Tx& tx) {
      return tx
          .Exec("UPDATE tokens SET secret_hash = $1 WHERE id = (SELECT MIN(id) FROM tokens)",
                {openlab::Sha256Hex("olt_fuzz")})
          .status();
    });
    if (!s.ok()) std::abort();
    return harness;
  }();
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  auto* h = Harness();
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  openlab::http::HttpRequest r = openlab::http::FromBeast(parser.get(), "fuzz");
  openlab::http::HttpResponse resp = h->api().Handle(r);
  if (resp.status >= 500 && resp.status != 503) {
    std::fprintf(stderr, "5xx answer %d to a request: %s\n", resp.status, resp.body.c_str());
    std::abort();
  }
  return 0;
}
