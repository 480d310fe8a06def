#include "logging.h"

#include <atomic>

#include <grpc/support/log.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace goethe::server {
namespace {

std::atomic<bool> serving{false};

void LogFromGrpc(gpr_log_func_args* args) {
  spdlog::level::level_enum level = spdlog::level::debug;
  if (serving.load(std::memory_order_relaxed)) {
    if (args->severity == GPR_LOG_SEVERITY_ERROR) level = spdlog::level::warn;
    if (args->severity == GPR_LOG_SEVERITY_INFO) level = spdlog::level::info;
  }
  spdlog::log(level, "grpc: {} ({}:{})", args->message, args->file, args->line);
}

}  // namespace

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("goethe");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
  gpr_set_log_function(LogFromGrpc);
  // gRPC formats nothing below this; its debug chatter is only worth it when we log debug too.
  gpr_set_log_verbosity(logger->should_log(spdlog::level::debug) ? GPR_LOG_SEVERITY_DEBUG : GPR_LOG_SEVERITY_ERROR);
}

void MarkServing() { serving.store(true, std::memory_order_relaxed); }

}  // namespace goethe::server
