// Password login: the check of a username and password (outside every write transaction, on the
// password hasher's pool) and the limit on failed attempts per account and per client address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "common/mutex.h"
#include "common/password_hasher.h"
#include "common/status.h"
#include "store/db.h"

namespace openlab::auth {

struct LoginLimits {
  int max_failures_per_account = 10;  // failed logins per username per window; 0: no limit
  int max_failures_per_address = 50;  // failed logins per client address per window; 0: no limit
  int64_t window_ms = 15LL * 60 * 1000;
  // Usernames (and, apart, addresses) remembered at most; beyond, the oldest are forgotten, so
  // an attacker cycling names cannot grow the limiter without bound.
  size_t max_entries = 100000;
};

// The problem kind of a login refused because of too many failures (429, with Retry-After).
inline constexpr const char* kTooManyLoginAttemptsKind = "too-many-login-attempts";

// Counts failed logins in fixed windows that start at a key's first failure. In memory: the
// counts are this process's (one server) and start empty when it restarts. Thread-safe.
class LoginLimiter {
 public:
  explicit LoginLimiter(LoginLimits limits = {});

  // Milliseconds until a login as `account` from `address` may be tried again; 0: now.
  int64_t RetryAfterMs(const std::string& account, const std::string& address, int64_t now)
      EXCLUDES(mu_);
  void RecordFailure(const std::string& account, const std::string& address, int64_t now)
      EXCLUDES(mu_);
  // A successful login: the account's failures are forgotten (not the address's).
  void RecordSuccess(const std::string& account) EXCLUDES(mu_);
  // Usernames and addresses remembered now (at most 2 x max_entries).
  size_t tracked() const EXCLUDES(mu_);
  const LoginLimits& limits() const { return limits_; }

 private:
  // Failure counts of one kind of key, oldest window first.
  class Windows {
   public:
    Windows(int64_t window_ms, size_t max_entries) : window_ms_(window_ms), max_(max_entries) {}
    int64_t RetryAfterMs(const std::string& key, int limit, int64_t now);
    void Add(const std::string& key, int64_t now);
    void Forget(const std::string& key);
    size_t size() const { return counts_.size(); }

   private:
    struct Entry {
      int failures = 0;
      int64_t start = 0;
      std::list<std::string>::iterator pos;
    };
    void Expire(int64_t now);
    int64_t window_ms_;
    size_t max_;
    std::unordered_map<std::string, Entry> counts_;
    std::list<std::string> order_;  // keys by window start, oldest first
  };

  const LoginLimits limits_;
  mutable Mutex mu_;
  Windows accounts_ GUARDED_BY(mu_);
  Windows addresses_ GUARDED_BY(mu_);
};

struct LoginAttempt {
  std::string username, password;
  std::string address;  // the client's address as the server sees it
};

// What a login check learnt besides its answer.
struct LoginNotes {
  std::string user_id;        // the named user's id when it exists (for the audit trail only)
  int64_t retry_after_s = 0;  // set when refused for too many failures
};

// Checks a password login without holding the store's writer: reads the user and its hash in a
// read transaction, then verifies on `hasher`. Returns the user's id. An unknown user, a wrong
// password and a disabled account all get the same Unauthenticated answer (an unknown user's
// password is verified against a dummy hash, so the time taken does not tell them apart either).
// While the username or the address has reached its failure limit every attempt is refused with
// ResourceExhausted (kind kTooManyLoginAttemptsKind), the right password too, without verifying;
// unknown and known usernames are counted alike. A busy hasher's Unavailable is passed on.
StatusOr<std::string> CheckLogin(store::Database& db, PasswordHasher& hasher, LoginLimiter& limiter,
                                 const LoginAttempt& attempt, int64_t now, LoginNotes* notes);

}  // namespace openlab::auth
