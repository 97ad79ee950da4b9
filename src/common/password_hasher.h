// Password hashing (Argon2id) off the request path: the PasswordHasher interface, the real
// hasher, and HashPool, which runs a hasher on a small fixed set of threads with a bounded queue.
// A hash takes tens of milliseconds and 64 MiB, so callers hash before they open a store write
// (never inside one: it would hold the single writer), and a burst of sign-ups or logins is
// refused once the queue is full rather than waiting without bound or taking every core.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace openlab {

class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  // A hash of `password` in the format VerifyPassword reads (crypto.h).
  virtual StatusOr<std::string> Hash(std::string_view password) = 0;
  // Whether `password` matches `hash` (false for an empty or malformed hash).
  virtual StatusOr<bool> Verify(std::string_view password, const std::string& hash) = 0;
};

// crypto.h's HashPassword and VerifyPassword, on the calling thread. Thread-safe.
class Argon2idHasher final : public PasswordHasher {
 public:
  StatusOr<std::string> Hash(std::string_view password) override;
  StatusOr<bool> Verify(std::string_view password, const std::string& hash) override;
};

// The problem kind of a refusal because the queue is full (answered 503 with Retry-After).
inline constexpr const char* kHashingBusyKind = "hashing-busy";

struct HashPoolOptions {
  int threads = 0;  // hashing threads; 0: DefaultHashThreads()
  int queue = 0;    // hashes that may wait for a thread; 0: 4 per thread
};

// Half the cores, at least 1 and at most 4 (each Argon2id hash holds 64 MiB while it runs).
int DefaultHashThreads();

// Runs `inner` on `threads` threads of its own. Hash and Verify block the caller until its turn
// has run, or return Unavailable (kind kHashingBusyKind) at once when `queue` hashes already
// wait. Thread-safe. The destructor lets queued work finish, then joins its threads.
class HashPool final : public PasswordHasher {
 public:
  // `inner` must outlive the pool.
  HashPool(PasswordHasher* inner, HashPoolOptions opts = {});
  ~HashPool() override;
  HashPool(const HashPool&) = delete;
  HashPool& operator=(const HashPool&) = delete;

  StatusOr<std::string> Hash(std::string_view password) override;
  StatusOr<bool> Verify(std::string_view password, const std::string& hash) override;

  int threads() const { return static_cast<int>(workers_.size()); }
  int queue_limit() const { return queue_limit_; }
  // Hashes waiting for a thread now (not those running).
  int queued() const EXCLUDES(mu_);

 private:
  // Runs `work` on a pool thread and waits for it; Unavailable when the queue is full.
  Status Run(std::function<void()> work) EXCLUDES(mu_);
  void Work() EXCLUDES(mu_);

  PasswordHasher* inner_;
  int queue_limit_;
  mutable Mutex mu_;
  CondVar changed_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace openlab
