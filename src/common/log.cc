#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "common/clock.h"

namespace openlab {
namespace {
LogLevel g_min = LogLevel::kInfo;

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("openlab");
    l->set_pattern("%v");
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

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
