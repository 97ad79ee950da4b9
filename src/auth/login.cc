#include "auth/login.h"

#include <algorithm>
#include <optional>

#include "common/crypto.h"
#include "tenants/tenants.h"

namespace openlab::auth {

// ---- the limiter

void LoginLimiter::Windows::Expire(int64_t now) {
  while (!order_.empty()) {
    auto it = counts_.find(order_.front());
    if (it->second.start + window_ms_ > now) break;
    counts_.erase(it);
    order_.pop_front();
  }
}

int64_t LoginLimiter::Windows::RetryAfterMs(const std::string& key, int limit, int64_t now) {
  if (limit <= 0) return 0;
  Expire(now);
  auto it = counts_.find(key);
  if (it == counts_.end() || it->second.failures < limit) return 0;
  return it->second.start + window_ms_ - now;
}

void LoginLimiter::Windows::Add(const std::string& key, int64_t now) {
  Expire(now);
  auto it = counts_.find(key);
  if (it != counts_.end()) {
    it->second.failures++;
    return;
  }
  while (counts_.size() >= max_ && !order_.empty()) {
    counts_.erase(order_.front());
    order_.pop_front();
  }
  if (max_ == 0) return;
  order_.push_back(key);
  counts_.emplace(key, Entry{1, now, std::prev(order_.end())});
}

void LoginLimiter::Windows::Forget(const std::string& key) {
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  order_.erase(it->second.pos);
  counts_.erase(it);
}

LoginLimiter::LoginLimiter(LoginLimits limits)
    : limits_(limits),
      accounts_(limits.window_ms, limits.max_entries),
      addresses_(limits.window_ms, limits.max_entries) {}

int64_t LoginLimiter::RetryAfterMs(const std::string& account, const std::string& address,
                                   int64_t now) {
  MutexLock lock(&mu_);
  return std::max(accounts_.RetryAfterMs(account, limits_.max_failures_per_account, now),
                  addresses_.RetryAfterMs(address, limits_.max_failures_per_address, now));
}

void LoginLimiter::RecordFailure(const std::string& account, const std::string& address,
                                 int64_t now) {
  MutexLock lock(&mu_);
  if (limits_.max_failures_per_account > 0) accounts_.Add(account, now);
  if (limits_.max_failures_per_address > 0) addresses_.Add(address, now);
}

void LoginLimiter::RecordSuccess(const std::string& account) {
  MutexLock lock(&mu_);
  accounts_.Forget(account);
}

size_t LoginLimiter::tracked() const {
  MutexLock lock(&mu_);
  return accounts_.size() + addresses_.size();
}

// ---- the check

StatusOr<std::string> CheckLogin(store::Database& db, PasswordHasher& hasher, LoginLimiter& limiter,
                                 const LoginAttempt& attempt, int64_t now, LoginNotes* notes) {
  std::optional<tenants::User> user;
  std::string hash;
  RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
    auto u = tenants::GetUserByName(tx, attempt.username);
    if (!u.ok()) return u.status().code() == StatusCode::kNotFound ? Status::Ok() : u.status();
    user = *u;
    ASSIGN_OR_RETURN(hash, tenants::GetPasswordHash(tx, u->id));
    return Status::Ok();
  }));
  if (user) notes->user_id = user->id;
  if (int64_t wait = limiter.RetryAfterMs(attempt.username, attempt.address, now); wait > 0) {
    notes->retry_after_s = (wait + 999) / 1000;
    return ResourceExhausted(
               "too many failed logins for this account or from this address; try again later")
        .WithKind(kTooManyLoginAttemptsKind);
  }
  // Verify even for unknown users so timing does not reveal which names exist.
  static const std::string kDummy = [] {
    auto h = HashPassword("openlab-dummy-password");
    return h.ok() ? *h : std::string();
  }();
  ASSIGN_OR_RETURN(bool matches, hasher.Verify(attempt.password, hash.empty() ? kDummy : hash));
  if (!matches || !user || hash.empty() || user->disabled) {
    limiter.RecordFailure(attempt.username, attempt.address, now);
    return Unauthenticated("wrong username or password");
  }
  limiter.RecordSuccess(attempt.username);
  return user->id;
}

}  // namespace openlab::auth
