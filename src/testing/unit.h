// Helpers for unit tests of the store functions (tenants::, auth::): a matcher for the specific
// error a call returns, and a way to run one call in its own write transaction and keep its result.
#pragma once

#include <gmock/gmock.h>

#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "common/status.h"
#include "store/db.h"

namespace openlab {

// So that a failed expectation shows the status, not the object's bytes.
inline void PrintTo(const Status& s, std::ostream* os) { *os << (s.ok() ? "OK" : s.ToString()); }
template <typename T>
void PrintTo(const StatusOr<T>& s, std::ostream* os) {
  *os << (s.ok() ? std::string("a value") : s.status().ToString());
}

}  // namespace openlab

namespace openlab::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(CreateOrg(...), StatusIs(StatusCode::kInvalidArgument)) on a Status or StatusOr.
MATCHER_P(StatusIs, code, std::string("has code ") + StatusCodeName(code)) {
  const Status& s = StatusOf(arg);
  *result_listener << "whose status is " << (s.ok() ? std::string("OK") : s.ToString());
  return s.code() == code;
}
// The same, and the message matches `message` (e.g. ::testing::HasSubstr("...")).
MATCHER_P2(StatusIs, code, message, std::string("has code ") + StatusCodeName(code)) {
  const Status& s = StatusOf(arg);
  *result_listener << "whose status is " << (s.ok() ? std::string("OK") : s.ToString());
  return s.code() == code && ::testing::ExplainMatchResult(message, s.message(), result_listener);
}
MATCHER(IsOk, "is OK") {
  const Status& s = StatusOf(arg);
  *result_listener << "whose status is " << (s.ok() ? std::string("OK") : s.ToString());
  return s.ok();
}

// Runs `fn(tx)` in one write transaction of `db` and returns what it returned (a Status or a
// StatusOr). The transaction commits if that is OK and rolls back otherwise; a failed commit is
// returned in its place.
template <typename F>
auto InWrite(store::Database& db, F&& fn) -> std::invoke_result_t<F&, store::Tx&> {
  using R = std::invoke_result_t<F&, store::Tx&>;
  std::optional<R> out;
  Status committed = db.Write([&](store::Tx& tx) -> Status {
    out.emplace(fn(tx));
    return StatusOf(*out);
  });
  if (!out || (!committed.ok() && StatusOf(*out).ok())) return R(committed);
  return std::move(*out);
}

}  // namespace openlab::testing
