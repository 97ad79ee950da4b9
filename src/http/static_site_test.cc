// The console's files as the Api serves them: the app at every path of its own, its assets
// cached for good, compressed when asked, nothing of the API's paths taken over.
#include "http/static_site.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "testing/harness.h"

namespace openlab::http {
namespace {

namespace fs = std::filesystem;

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/openlab-site-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ + "/assets");
    Write("index.html", "<!doctype html><title>openlab</title><div id=app></div>");
    script_ = "console.log('" + std::string(4000, 'x') + "');";
    Write("assets/app-3f2a.js", script_);
    Write("favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& body) {
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << body;
  }

  std::string dir_, script_;
};

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST_F(StaticSiteTest, TheApiServesTheConsoleOutsideItsOwnPaths) {
  auto site = StaticSite::Load(dir_);
  ASSERT_TRUE(site.ok()) << site.status().message();
  EXPECT_EQ(site->file_count(), 3u);
  openlab::testing::ApiHarness h(openlab::testing::Backend::kSqlite, {.console = &*site});

  // The console's own routes are the app; its CSP allows only the site's own scripts.
  for (const char* path : {"/", "/datasets", "/datasets/ds_1", "/jobs/j_1?tab=log"}) {
    auto r = h.Call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_NE(r.body.find("<title>openlab</title>"), std::string::npos) << path;
    EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.Header("cache-control"), "no-cache");
    EXPECT_NE(r.Header("content-security-policy").find("script-src 'self';"), std::string::npos);
    EXPECT_EQ(r.Header("x-frame-options"), "DENY");
  }
  // Assets are named by their content: cached for a year; gzip when the client takes it.
  auto js = h.Call("GET", "/assets/app-3f2a.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, script_);
  EXPECT_EQ(js.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("content-encoding"), "");
  auto gz = h.Call("GET", "/assets/app-3f2a.js", "", "", {{"accept-encoding", "br, gzip"}});
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  EXPECT_LT(gz.body.size(), script_.size() / 10);
  EXPECT_EQ(Gunzip(gz.body), script_);
  auto refused = h.Call("GET", "/assets/app-3f2a.js", "", "", {{"accept-encoding", "gzip;q=0"}});
  EXPECT_EQ(refused.body, script_);
  // A revalidation with the same ETag gets 304 and no body.
  auto again = h.Call("GET", "/assets/app-3f2a.js", "", "", {{"if-none-match", js.Header("etag")}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");

  // A missing file is not the app: a script that 404s must not be handed HTML.
  EXPECT_EQ(h.Call("GET", "/assets/gone-1234.js").status, 404);
  EXPECT_EQ(h.Call("GET", "/robots.txt").status, 404);
  // The API's paths stay the API's, found or not; the console is for GETs only.
  auto api = h.Call("GET", "/api/v1/no-such-thing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.Header("content-type"), "application/problem+json");
  EXPECT_EQ(h.Call("GET", "/api/v1/openapi.json").json.at("openapi"), "3.1.0");
  EXPECT_EQ(h.Call("GET", "/healthz").status, 200);
  EXPECT_EQ(h.Call("POST", "/datasets", "", "{}").status, 404);
  // A dot-dot path never reaches outside the site's files (held in memory, by their paths): it
  // is one of the app's own paths.
  for (const char* path : {"/../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd"}) {
    auto r = h.Call("GET", path);
    EXPECT_NE(r.body.find("<title>openlab</title>"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
  }
}

TEST_F(StaticSiteTest, ADirectoryWithoutTheAppIsRefused) {
  fs::remove(dir_ + "/index.html");
  auto site = StaticSite::Load(dir_);
  ASSERT_FALSE(site.ok());
  EXPECT_NE(site.status().message().find("index.html"), std::string::npos);
  EXPECT_FALSE(StaticSite::Load(dir_ + "/missing").ok());
}

TEST_F(StaticSiteTest, WithoutAConsoleTheServerAnswersTheApiAlone) {
  openlab::testing::ApiHarness h;
  auto r = h.Call("GET", "/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
}

}  // namespace
}  // namespace openlab::http
