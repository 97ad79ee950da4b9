// A PasswordHasher for tests that holds every hash in progress until the test releases it, so a
// test can prove what goes on (or does not) while a password is being hashed, without timing
// anything. Its hashes are "test$" + the password; Verify compares with that (false for any
// other hash, such as a real Argon2id one).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "common/mutex.h"
#include "common/password_hasher.h"

namespace openlab::testing {

class BlockingHasher final : public PasswordHasher {
 public:
  // `blocked`: whether calls wait for Release() (else they return at once).
  explicit BlockingHasher(bool blocked = true) : blocked_(blocked) {}

  StatusOr<std::string> Hash(std::string_view password) override EXCLUDES(mu_) {
    Enter();
    return "test$" + std::string(password);
  }
  StatusOr<bool> Verify(std::string_view password, const std::string& hash) override EXCLUDES(mu_) {
    Enter();
    return hash == "test$" + std::string(password);
  }

  // Makes later calls wait again.
  void Block() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    blocked_ = true;
  }
  // Lets every waiting and later call through.
  void Release() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    blocked_ = false;
    changed_.SignalAll();
  }
  // Waits until `n` calls have started. False if that has not happened after a minute (a hang
  // guard, not a measurement): every call is then let through, so the test fails instead of
  // hanging on the threads it started.
  bool WaitUntilStarted(int n) EXCLUDES(mu_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    MutexLock lock(&mu_);
    while (started_ < n) {
      if (changed_.WaitUntil(&mu_, deadline) == std::cv_status::timeout && started_ < n) {
        blocked_ = false;
        changed_.SignalAll();
        return false;
      }
    }
    return true;
  }
  // As WaitUntilStarted, until `n` hashes wait in `pool`'s queue (this hasher behind it).
  bool WaitUntilQueued(const HashPool& pool, int n) EXCLUDES(mu_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (pool.queued() < n) {
      if (std::chrono::steady_clock::now() > deadline) {
        Release();
        return false;
      }
      std::this_thread::yield();
    }
    return true;
  }
  int started() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return started_;
  }

 private:
  void Enter() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++started_;
    changed_.SignalAll();
    while (blocked_) changed_.Wait(&mu_);
  }

  mutable Mutex mu_;
  CondVar changed_;
  bool blocked_ GUARDED_BY(mu_);
  int started_ GUARDED_BY(mu_) = 0;
};

}  // namespace openlab::testing
