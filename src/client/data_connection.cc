#include "client/data_connection.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>

namespace openlab::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kPieceBytes = size_t{1} << 20;  // one read of a streamed download
constexpr size_t kMaxErrorBody = size_t{1} << 20;

template <class Message>
void CopyHeaders(const Message& m, HttpResult* r) {
  r->status = m.result_int();
  for (const auto& f : m) {
    std::string name(f.name_string());
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r->headers[name] = std::string(f.value());
  }
}

}  // namespace

struct DataConnection::Impl {
  asio::io_context ioc;
  std::optional<tcp::socket> socket;
  beast::flat_buffer buffer;
  bool used = false;  // the open connection has served a request
  std::string host, port, base;
  Status url_status;
  std::unique_ptr<char[]> piece{new char[kPieceBytes]};

  void Close() {
    if (socket) {
      beast::error_code ignored;
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
    socket.reset();
    buffer.clear();
    used = false;
  }

  Status Connect(const std::string& url) {
    RETURN_IF_ERROR(url_status);
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port, ec);
    if (!ec) {
      socket.emplace(ioc);
      asio::connect(*socket, endpoints, ec);
    }
    if (ec) {
      socket.reset();
      return Unavailable(fmt::format("cannot reach openlab at {}: {}", url, ec.message()));
    }
    socket->set_option(tcp::no_delay(true), ec);
    socket->set_option(asio::socket_base::keep_alive(true), ec);
    buffer.clear();
    used = false;
    return Status::Ok();
  }
};

DataConnection::DataConnection(Credentials creds)
    : creds_(std::move(creds)), impl_(std::make_unique<Impl>()) {
  auto url = boost::urls::parse_absolute_uri(creds_.url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    impl_->url_status =
        InvalidArgument(fmt::format("'{}' is not an http:// server URL", creds_.url));
    return;
  }
  impl_->host = std::string(url->host());
  impl_->port = url->has_port() ? std::string(url->port()) : "80";
  impl_->base = std::string(url->encoded_path());
  while (!impl_->base.empty() && impl_->base.back() == '/') impl_->base.pop_back();
}

DataConnection::~DataConnection() { impl_->Close(); }

StatusOr<HttpResult> DataConnection::Send(const std::string& method, const std::string& path,
                                          std::string_view body, const std::string& content_type,
                                          const Headers& extra) {
  Impl& m = *impl_;
  for (int attempt = 0;; ++attempt) {
    if (!m.socket) RETURN_IF_ERROR(m.Connect(creds_.url));
    bool reused = m.used;
    bhttp::request<bhttp::span_body<const char>> req{bhttp::string_to_verb(method), m.base + path,
                                                     11};
    req.set(bhttp::field::host, m.host);
    req.set(bhttp::field::user_agent, "openlab-cli");
    req.keep_alive(true);
    if (!creds_.token.empty()) req.set(bhttp::field::authorization, "Bearer " + creds_.token);
    for (const auto& [k, v] : extra) req.set(k, v);
    if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = boost::span<const char>(body.data(), body.size());
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(*m.socket, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    if (!ec) bhttp::read(*m.socket, m.buffer, parser, ec);
    if (ec) {
      bool retry = reused && attempt == 0 && !parser.got_some();
      m.Close();
      if (retry) continue;
      return Unavailable(fmt::format("{} {}: the connection to {} failed: {}", method, path,
                                     creds_.url, ec.message()));
    }
    HttpResult r;
    auto& res = parser.get();
    CopyHeaders(res, &r);
    r.body = std::move(res.body());
    if (res.keep_alive()) {
      m.used = true;
    } else {
      m.Close();
    }
    return r;
  }
}

StatusOr<HttpResult> DataConnection::Json(const std::string& method, const std::string& path,
                                          const std::string& json_body) {
  return Send(method, path, json_body, json_body.empty() ? "" : "application/json");
}

StatusOr<HttpResult> DataConnection::Download(const std::string& path, const Headers& extra,
                                              const Sink& sink) {
  Impl& m = *impl_;
  for (int attempt = 0;; ++attempt) {
    if (!m.socket) RETURN_IF_ERROR(m.Connect(creds_.url));
    bool reused = m.used;
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, m.base + path, 11};
    req.set(bhttp::field::host, m.host);
    req.set(bhttp::field::user_agent, "openlab-cli");
    req.keep_alive(true);
    if (!creds_.token.empty()) req.set(bhttp::field::authorization, "Bearer " + creds_.token);
    for (const auto& [k, v] : extra) req.set(k, v);
    beast::error_code ec;
    bhttp::write(*m.socket, req, ec);
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (!ec) bhttp::read_header(*m.socket, m.buffer, parser, ec);
    if (ec) {
      bool retry = reused && attempt == 0 && !parser.got_some();
      m.Close();
      if (retry) continue;
      return Unavailable(
          fmt::format("GET {}: the connection to {} failed: {}", path, creds_.url, ec.message()));
    }
    HttpResult r;
    CopyHeaders(parser.get(), &r);
    bool ok_status = r.status >= 200 && r.status < 300;
    uint64_t received = 0;
    auto broke_off = [&](const beast::error_code& e) {
      m.Close();
      return Internal(fmt::format(
          "the download of {} broke off after {} bytes ({}): the server could not read its "
          "data (a damaged chunk?); nothing of it was kept",
          path, received, e.message()));
    };
    if (ok_status && parser.content_length() && !parser.chunked()) {
      // The common case, read straight into our buffer: the parser would read through the
      // connection's small buffer, a few hundred bytes per system call.
      uint64_t left = *parser.content_length();
      while (left > 0 && m.buffer.size() > 0) {
        auto data = m.buffer.data();
        size_t n = static_cast<size_t>(std::min<uint64_t>(left, data.size()));
        Status s = sink(static_cast<const char*>(data.data()), n);
        if (!s.ok()) {
          m.Close();
          return s;
        }
        m.buffer.consume(n);
        left -= n;
        received += n;
      }
      while (left > 0) {
        // Fill the piece (or what is left) before handing it on: fewer, larger writes.
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, kPieceBytes));
        size_t n = 0;
        while (n < want) {
          n += m.socket->read_some(asio::buffer(m.piece.get() + n, want - n), ec);
          if (ec) {
            received += n;
            return broke_off(ec);
          }
        }
        Status s = sink(m.piece.get(), n);
        if (!s.ok()) {
          m.Close();
          return s;
        }
        left -= n;
        received += n;
      }
      if (parser.get().keep_alive()) {
        m.used = true;
      } else {
        m.Close();
      }
      return r;
    }
    while (!parser.is_done()) {
      parser.get().body().data = m.piece.get();
      parser.get().body().size = kPieceBytes;
      bhttp::read(*m.socket, m.buffer, parser, ec);
      if (ec == bhttp::error::need_buffer) ec = {};
      size_t n = kPieceBytes - parser.get().body().size;
      if (ec) {
        m.Close();
        return Internal(fmt::format(
            "the download of {} broke off after {} bytes ({}): the server could not read its "
            "data (a damaged chunk?); nothing of it was kept",
            path, received, ec.message()));
      }
      received += n;
      if (n == 0) continue;
      if (ok_status) {
        Status s = sink(m.piece.get(), n);
        if (!s.ok()) {
          m.Close();  // the rest of the body is still on the wire
          return s;
        }
      } else if (r.body.size() < kMaxErrorBody) {
        r.body.append(m.piece.get(), std::min(n, kMaxErrorBody - r.body.size()));
      }
    }
    if (parser.get().keep_alive()) {
      m.used = true;
    } else {
      m.Close();
    }
    return r;
  }
}

}  // namespace openlab::client
