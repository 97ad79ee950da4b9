// Structured JSON logs on stderr, one object a line.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace openlab {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Writes {"ts":..., "level":..., "msg":..., <fields>} to the log sink. Thread-safe.
void Log(LogLevel level, std::string_view msg, boost::json::object fields = {});

// Sets the minimum level written (default info). Not thread-safe: call at start.
void SetLogLevel(LogLevel level);

}  // namespace openlab
