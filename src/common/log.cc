#include "common/log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "common/clock.h"

namespace openlab {
namespace {
LogLevel g_min = LogLevel::kInfo;

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink) {
  auto l = std::make_shared<spdlog::logger>("openlab", std::move(sink));
  l->set_pattern("%v");
  l->flush_on(spdlog::level::info);
  return l;
}

// Replaced only at start (LogToFile), before other threads log.
std::shared_ptr<spdlog::logger>& LoggerSlot() {
  static std::shared_ptr<spdlog::logger> logger =
      MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return logger;
}

spdlog::logger& Logger() { return *LoggerSlot(); }

const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_min = level; }

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == Name(l)) return l;
  }
  return std::nullopt;
}

Status LogToFile(const std::string& path, size_t max_bytes, size_t files) {
  if (max_bytes == 0 || files == 0) return InvalidArgument("a log file needs a size and a count");
  try {
    // rotating_file_sink keeps `max_files` older files besides the current one.
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, max_bytes, files - 1);
    LoggerSlot() = MakeLogger(std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return Unavailable(std::string("cannot open the log file: ") + e.what());
  }
  return Status::Ok();
}

void Log(LogLevel level, std::string_view msg, boost::json::object fields) {
  if (level < g_min) return;
  boost::json::object line;
  line["ts"] = FormatTime(Clock::Real()->NowMs());
  line["level"] = Name(level);
  line["msg"] = msg;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  Logger().info(boost::json::serialize(line));
}

}  // namespace openlab
