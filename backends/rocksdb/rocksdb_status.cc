#include "rocksdb_status.h"

#include <string>

namespace goethe::kv::rocksdb_backend {

Status FromRocksDb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::Ok();
  std::string message(context);
  if (!message.empty()) message += ": ";
  message += status.ToString();
  if (status.IsNotFound()) return Status::NotFound(std::move(message));
  if (status.IsCorruption()) return Status::Corruption(std::move(message));
  if (status.IsIOError()) {
    // A full disk (ENOSPC) or the SstFileManager's configured space limit: both clear once space
    // returns, which is what NoSpace tells the caller.
    if (status.IsNoSpace() || status.subcode() == rocksdb::Status::kSpaceLimit ||
        message.find("No space left") != std::string::npos) {
      return Status::NoSpace(std::move(message));
    }
    return Status::IoError(std::move(message));
  }
  if (status.IsInvalidArgument()) return Status::InvalidArgument(std::move(message));
  if (status.IsNotSupported()) return Status::NotSupported(std::move(message));
  if (status.IsBusy() || status.IsTryAgain()) return Status::Busy(std::move(message));
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

}  // namespace goethe::kv::rocksdb_backend
