#include "leveldb_status.h"

#include <string>

namespace goethe::kv::leveldb_backend {

Status FromLevelDb(const leveldb::Status& status, std::string_view context) {
  if (status.ok()) return Status::Ok();
  std::string message(context);
  if (!message.empty()) message += ": ";
  message += status.ToString();
  if (status.IsNotFound()) return Status::NotFound(std::move(message));
  if (status.IsCorruption()) return Status::Corruption(std::move(message));
  if (status.IsIOError()) {
    // LevelDB has no code for a full disk; its IOError carries strerror(ENOSPC).
    if (message.find("No space left") != std::string::npos) {
      return Status::NoSpace(std::move(message));
    }
    return Status::IoError(std::move(message));
  }
  if (status.IsInvalidArgument()) return Status::InvalidArgument(std::move(message));
  if (status.IsNotSupportedError()) return Status::NotSupported(std::move(message));
  return Status::Internal(std::move(message));
}

Status FromException(std::string_view what, const std::exception* e) noexcept {
  try {
    std::string message(what);
    message += ": ";
    message += e != nullptr ? e->what() : "unknown exception";
    return Status::Internal(std::move(message));
  } catch (...) {
    return Status(Code::kInternal, std::string());  // empty string: no allocation
  }
}

}  // namespace goethe::kv::leveldb_backend
