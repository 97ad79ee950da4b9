#include "client/client.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace openlab::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

std::string CredentialsPath() {
  if (const char* p = std::getenv("OPENLAB_CONFIG"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
    return std::string(x) + "/openlab/credentials.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/openlab/credentials.json";
}

Credentials LoadCredentials() {
  Credentials c{"http://127.0.0.1:8080", ""};
  std::ifstream in(CredentialsPath());
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(ss.str(), ec);
    if (!ec && v.is_object()) {
      auto& o = v.as_object();
      if (auto* u = o.if_contains("url"); u && u->is_string()) c.url = std::string(u->get_string());
      if (auto* t = o.if_contains("token"); t && t->is_string()) {
        c.token = std::string(t->get_string());
      }
    }
  }
  if (const char* u = std::getenv("OPENLAB_URL"); u && *u) c.url = u;
  if (const char* t = std::getenv("OPENLAB_TOKEN"); t && *t) c.token = t;
  return c;
}

Status SaveCredentials(const Credentials& c) {
  std::string path = CredentialsPath();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    ::umask(077);
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Unavailable(fmt::format("cannot write {}", tmp));
    out << json::serialize(json::object{{"url", c.url}, {"token", c.token}}) << "\n";
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable(fmt::format("cannot write {}: {}", path, ec.message()));
  return Status::Ok();
}

Status RemoveCredentials() {
  std::error_code ec;
  std::filesystem::remove(CredentialsPath(), ec);
  return Status::Ok();
}

StatusOr<HttpResult> Client::Call(const std::string& method, const std::string& path,
                                  const std::optional<std::string>& json_body,
                                  const std::vector<std::pair<std::string, std::string>>& extra) {
  auto url = boost::urls::parse_absolute_uri(creds_.url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return InvalidArgument(fmt::format("'{}' is not an http:// server URL", creds_.url));
  }
  std::string host(url->host());
  std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string base(url->encoded_path());
  while (!base.empty() && base.back() == '/') base.pop_back();
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), base + path, 11};
    req.set(bhttp::field::host, host);
    req.set(bhttp::field::user_agent, "openlab-cli");
    if (!creds_.token.empty()) req.set(bhttp::field::authorization, "Bearer " + creds_.token);
    for (const auto& [k, v] : extra) req.set(k, v);
    if (json_body) {
      // JSON unless the caller named another type (a binary chunk batch, say).
      if (req[bhttp::field::content_type].empty()) {
        req.set(bhttp::field::content_type, "application/json");
      }
      req.body() = *json_body;
    }
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 30);
    bhttp::read(stream, buf, parser);
    HttpResult r;
    auto& res = parser.get();
    r.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(f.value());
    }
    r.body = res.body();
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return r;
  } catch (const std::exception& e) {
    return Unavailable(fmt::format("cannot reach openlab at {}: {}", creds_.url, e.what()));
  }
}

std::string ErrorLine(const HttpResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    auto& o = v.as_object();
    std::string detail = o.contains("detail") && o.at("detail").is_string()
                             ? std::string(o.at("detail").get_string())
                             : "";
    std::string type = o.contains("type") && o.at("type").is_string()
                           ? std::string(o.at("type").get_string())
                           : "";
    if (auto p = type.rfind(':'); p != std::string::npos) type = type.substr(p + 1);
    return fmt::format("{} (HTTP {} {})", detail, r.status, type);
  }
  return fmt::format("the server answered HTTP {}", r.status);
}

}  // namespace openlab::client
