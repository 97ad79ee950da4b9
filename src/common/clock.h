// Clock: the time source, behind an interface so tests can drive time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace openlab {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. Thread-safe.
  virtual int64_t NowMs() const = 0;
  // The process-wide real clock.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

// Formats epoch milliseconds as RFC 3339 UTC ("2026-11-26T12:00:00.000Z"): the one time format
// of the API's JSON and the CLI.
std::string FormatTime(int64_t ms);
// The same instant to the second, rounded down ("2026-11-26T12:00:00Z"), for documents whose
// readers expect whole seconds (Croissant's dates, DCAT's xsd:dateTime).
std::string FormatTimeSeconds(int64_t ms);

}  // namespace openlab
