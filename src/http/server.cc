#include "http/server.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"
#include "http/beast_request.h"
#include "http/problem.h"

namespace openlab::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {
constexpr size_t kDirectBodyBytes = 256 * 1024;

// A connection's state that Shutdown() may touch (always on the connection's strand).
// `stream` lives in the session's coroutine frame: it is used only on the session's strand,
// and only while `alive`.
struct Conn {
  beast::tcp_stream* stream = nullptr;
  bool idle = true;
  bool alive = true;
};
}  // namespace

struct Server::Impl {
  Api* api;
  ServerOptions opts;
  asio::io_context ioc;
  std::unique_ptr<asio::thread_pool> handlers;  // runs Api::Handle (Run creates it)
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  std::atomic<bool> stopping{false};
  Mutex mu;
  std::set<std::shared_ptr<Conn>> conns GUARDED_BY(mu);
  // Watchdog: stops the io_context if connections outlive the shutdown grace period.
  Mutex stop_mu;
  CondVar stop_cv;
  bool finished GUARDED_BY(stop_mu) = false;
  std::thread watchdog;

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(tcp::socket socket);
  asio::awaitable<void> Reject(tcp::socket socket);
  asio::awaitable<bool> WriteStreamed(beast::tcp_stream& stream, const HttpResponse& resp,
                                      unsigned version, bool keep_alive);
  void StartShutdown();
};

namespace {

bhttp::response<bhttp::string_body> ToBeast(const HttpResponse& resp, unsigned version,
                                            bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(resp.status), version};
  out.set(bhttp::field::server, "openlab");
  for (const auto& [k, v] : resp.headers) out.insert(k, v);
  out.body() = resp.body;
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

HttpResponse ParseErrorResponse(const beast::error_code& ec, size_t max_body) {
  if (ec == bhttp::error::body_limit) {
    return ProblemResponse(
        InvalidArgument(fmt::format("the request body is larger than {} bytes", max_body))
            .WithKind("payload-too-large"),
        "/", "none");
  }
  if (ec == bhttp::error::header_limit) {
    HttpResponse r =
        ProblemResponse(InvalidArgument("the request headers are too large"), "/", "none");
    r.status = 431;
    return r;
  }
  return ProblemResponse(InvalidArgument(fmt::format("malformed HTTP request: {}", ec.message())),
                         "/", "none");
}

}  // namespace

// Sends a response whose body comes from a BodySource. Returns false if the body could not be
// sent whole: the caller then closes the connection, so the client sees a short body.
asio::awaitable<bool> Server::Impl::WriteStreamed(beast::tcp_stream& stream,
                                                  const HttpResponse& resp, unsigned version,
                                                  bool keep_alive) {
  bhttp::response<bhttp::buffer_body> res{static_cast<bhttp::status>(resp.status), version};
  res.set(bhttp::field::server, "openlab");
  for (const auto& [k, v] : resp.headers) res.insert(k, v);
  res.content_length(resp.stream_length);
  res.keep_alive(keep_alive);
  res.body().data = nullptr;
  res.body().more = resp.stream_length > 0;
  bhttp::response_serializer<bhttp::buffer_body> sr{res};
  stream.expires_after(opts.read_timeout);
  auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kTuple);
  if (hec) co_return false;
  std::vector<char> buf(256 * 1024);
  uint64_t sent = 0;
  while (sent < resp.stream_length) {
    size_t n = 0;
    std::string error;
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), resp.stream_length - sent));
    if (!resp.stream->Read(buf.data(), want, &n, &error) || n == 0) {
      Log(LogLevel::kError, "a streamed response failed; closing the connection",
          {{"error", error.empty() ? "the body ended early" : error}, {"sent", sent}});
      co_return false;
    }
    res.body().data = buf.data();
    res.body().size = n;
    res.body().more = sent + n < resp.stream_length;
    stream.expires_after(opts.read_timeout);
    auto [ec, wn] = co_await bhttp::async_write(stream, sr, kTuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return false;
    sent += n;
  }
  if (!sr.is_done()) {
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    auto [ec, wn] = co_await bhttp::async_write(stream, sr, kTuple);
    if (ec) co_return false;
  }
  co_return true;
}

asio::awaitable<void> Server::Impl::Reject(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(5));
  HttpResponse r =
      ProblemResponse(Unavailable("the server has too many open connections; retry shortly")
                          .WithKind("too-many-connections"),
                      "/", "none");
  r.SetHeader("retry-after", "1");
  auto msg = ToBeast(r, 11, false);
  co_await bhttp::async_write(stream, msg, kTuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> Server::Impl::Session(tcp::socket socket) {
  beast::error_code ec0;
  auto ep = socket.remote_endpoint(ec0);
  std::string remote = ec0 ? "unknown" : ep.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Conn>();
  conn->stream = &stream;
  {
    MutexLock lock(&mu);
    conns.insert(conn);
  }
  api->metrics()->open_connections++;
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    conn->idle = true;
    if (stopping) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    // Beast checks Content-Length against the body limit while it reads the header, so the
    // limit is the largest any route takes until the route is known; then the route's own.
    parser.body_limit(std::max(opts.max_body_bytes, api->LargestBody()));
    stream.expires_after(first ? opts.read_timeout : opts.idle_timeout);
    first = false;
    // Wait for the first byte of the next request while idle; then the request must arrive
    // within the read timeout.
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    conn->idle = false;
    size_t limit = opts.max_body_bytes;
    if (!ec) {
      // Some routes (chunk uploads) take larger bodies than the default.
      const auto& h = parser.get();
      limit =
          std::max(limit, api->MaxBodyFor(std::string(h.method_string()), std::string(h.target())));
      auto length = parser.content_length();
      if (length && *length > limit) {
        ec = bhttp::error::body_limit;
      } else {
        parser.body_limit(limit);  // for chunked bodies
      }
    }
    // A large body of known length (a chunk batch) is read straight into its string, in as
    // large reads as the socket gives: Beast's parser reads at most 64 KiB per call and copies.
    std::optional<std::string> big_body;
    uint64_t body_length = 0;
    if (!ec && parser.content_length()) body_length = *parser.content_length();
    if (!ec && !parser.is_done() && body_length >= kDirectBodyBytes) {
      stream.expires_after(opts.read_timeout);
      big_body.emplace();
      big_body->resize(static_cast<size_t>(body_length));
      size_t have = std::min<size_t>(buffer.size(), big_body->size());
      asio::buffer_copy(asio::buffer(*big_body), buffer.data(), have);
      buffer.consume(have);
      if (have < big_body->size()) {
        std::tie(ec, n) = co_await asio::async_read(
            stream, asio::buffer(big_body->data() + have, big_body->size() - have), kTuple);
        if (ec == asio::error::eof) ec = bhttp::error::partial_message;
      }
    } else if (!ec && !parser.is_done()) {
      stream.expires_after(opts.read_timeout);
      std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    }
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == asio::error::eof) {
        break;
      }
      // Malformed or oversized request: answer once, then close.
      auto msg = ToBeast(ParseErrorResponse(ec, limit), 11, false);
      stream.expires_after(std::chrono::seconds(5));
      co_await bhttp::async_write(stream, msg, kTuple);
      // Lingering close: stop sending, then drain what the client is still sending for a
      // moment, so the kernel does not reset the connection before it has read the answer.
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(std::chrono::seconds(1));
      std::array<char, 16 * 1024> sink;
      for (size_t drained = 0; drained < (8u << 20);) {
        auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        drained += rn;
      }
      break;
    }
    auto& req = parser.get();
    if (big_body) req.body() = std::move(*big_body);
    // Read before the request is handed over (FromBeast takes its body).
    const bool client_keep_alive = req.keep_alive();
    const unsigned version = req.version();
    // Handled on a thread of the handler pool; this coroutine resumes on its strand after.
    HttpResponse resp = co_await asio::co_spawn(
        handlers->get_executor(),
        [&]() -> asio::awaitable<HttpResponse> {
          co_return api->Handle(FromBeast(std::move(req), remote));
        },
        asio::use_awaitable);
    bool keep_alive = client_keep_alive && !stopping;
    if (resp.stream) {
      bool whole = co_await WriteStreamed(stream, resp, version, keep_alive);
      if (!whole || !keep_alive) break;
      continue;
    }
    auto msg = ToBeast(resp, version, keep_alive);
    stream.expires_after(opts.read_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, msg, kTuple);
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn->alive = false;
  {
    MutexLock lock(&mu);
    conns.erase(conn);
  }
  api->metrics()->open_connections--;
}

asio::awaitable<void> Server::Impl::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kTuple);
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      Log(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
      continue;
    }
    auto ex = socket.get_executor();
    if (api->metrics()->open_connections.load() >= opts.max_connections) {
      api->metrics()->rejected_connections++;
      asio::co_spawn(ex, Reject(std::move(socket)), asio::detached);
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
  }
}

void Server::Impl::StartShutdown() {
  if (stopping.exchange(true)) return;
  Log(LogLevel::kInfo, "shutting down: finishing in-flight requests");
  asio::post(ioc, [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    MutexLock lock(&mu);
    for (const auto& c : conns) {
      asio::post(c->stream->get_executor(), [c] {
        beast::error_code ignored;
        if (c->alive && c->idle) c->stream->socket().cancel(ignored);
      });
    }
  });
  watchdog = std::thread([this] {
    MutexLock lock(&stop_mu);
    const auto deadline = std::chrono::steady_clock::now() + opts.shutdown_grace;
    while (!finished) {
      if (stop_cv.WaitUntil(&stop_mu, deadline) == std::cv_status::timeout) break;
    }
    if (!finished) {
      Log(LogLevel::kWarn, "shutdown grace period over; closing remaining connections");
      ioc.stop();
    }
  });
}

Server::Server(Api* api, ServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->api = api;
  impl_->opts = opts;
}

Server::~Server() = default;

Status Server::Listen() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.host, ec);
  if (ec) return InvalidArgument(fmt::format("'{}' is not an IP address", impl_->opts.host));
  tcp::endpoint ep(addr, impl_->opts.port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable(fmt::format("cannot listen on {}:{}: {}", impl_->opts.host, impl_->opts.port,
                                   ec.message()));
  }
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::Run() {
  Impl& s = *impl_;
  if (s.opts.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) impl_->StartShutdown();
    });
  }
  s.handlers = std::make_unique<asio::thread_pool>(std::max(1, s.opts.handler_threads));
  asio::co_spawn(s.ioc, s.Accept(), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < s.opts.threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  s.handlers->join();
  {
    MutexLock lock(&s.stop_mu);
    s.finished = true;
  }
  s.stop_cv.SignalAll();
  if (s.watchdog.joinable()) s.watchdog.join();
}

void Server::Shutdown() { impl_->StartShutdown(); }

}  // namespace openlab::http
