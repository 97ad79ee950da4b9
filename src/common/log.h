// Structured JSON logs, one object a line: on stderr, or in a file whose size is bounded (it
// rotates: the file and at most `files - 1` older ones are kept).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace openlab {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Writes {"ts":..., "level":..., "msg":..., <fields>} to the log sink. Thread-safe.
void Log(LogLevel level, std::string_view msg, boost::json::object fields = {});

// Sets the minimum level written (default info). Not thread-safe: call at start.
void SetLogLevel(LogLevel level);
// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);

// Sends the log to `path` instead of stderr, in files of at most `max_bytes` each, keeping
// `files` of them in all (path, path.1, ... the oldest dropped). Call at start, before any
// thread logs; an error (the file cannot be opened) leaves the log on stderr.
Status LogToFile(const std::string& path, size_t max_bytes, size_t files);

}  // namespace openlab
