// The HTTP server: Boost.Beast over Asio with C++20 coroutines. It enforces request limits,
// hands each request to the Api, and shuts down gracefully: stop accepting, let in-flight
// requests finish, close idle connections, then return from Run().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/api.h"

namespace openlab::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port())
  int threads = 2;       // I/O: reading requests and writing responses
  // Threads that run the handlers, so that a handler that waits (for a password hash, for the
  // store's writer) holds none of the I/O threads: others' requests are still read and answered.
  int handler_threads = 16;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds read_timeout{30};  // to receive one whole request
  std::chrono::seconds idle_timeout{60};  // keep-alive wait for the next request
  int max_connections = 1024;
  std::chrono::seconds shutdown_grace{30};
  bool handle_signals = true;  // SIGTERM/SIGINT start a graceful shutdown
};

class Server {
 public:
  // `api` must outlive the server.
  Server(Api* api, ServerOptions opts);
  ~Server();

  // Binds and listens. Returns Unavailable if the address cannot be bound.
  Status Listen();
  // The bound port. REQUIRES: Listen() succeeded.
  uint16_t port() const;
  // Serves until Shutdown() or a signal; returns when every connection is closed.
  void Run();
  // Starts a graceful shutdown. Thread-safe; idempotent.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace openlab::http
