#include "lmdb_status.h"

#include <cerrno>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include <lmdb++.h>
#include <lmdb.h>

namespace goethe::kv::lmdb_backend {

Status FromMdb(int rc, std::string_view context) {
  std::string message(context);
  message.append(": ").append(mdb_strerror(rc));
  switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return Status::NoSpace(std::move(message));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return Status::Corruption(std::move(message));
    case MDB_READERS_FULL:
      return Status::Busy(message + " (raise the option max_readers)");
    case MDB_MAP_RESIZED:  // another process grew the map; the next write adopts it
    case EAGAIN:
    case EBUSY:
      return Status::Busy(std::move(message));
    case MDB_BAD_VALSIZE:  // keys are checked first, so this is a value over LMDB's 4 GiB
      return Status::InvalidArgument(std::move(message));
    case MDB_TXN_FULL:  // more dirty pages than one LMDB transaction can hold
      return Status::NotSupported(message + " (the batch is too large for LMDB; split it)");
    case EINVAL:  // LMDB says EINVAL for misuse of its API: our bug, not the OS refusing
    case ENOMEM:
      return Status::Internal(std::move(message));
    default:
      // Positive codes are errno values from the OS (EACCES, ENOTDIR, EIO, EROFS, ...).
      if (rc > 0) return Status::IoError(std::move(message));
      return Status::Internal(std::move(message));
  }
}

Status FromCurrentException(std::string_view context) noexcept {
  try {
    try {
      throw;
    } catch (const lmdb::error& e) {
      return FromMdb(e.code(), std::string(context) + " (" + e.origin() + ")");
    } catch (const std::bad_alloc&) {
      return Status::Internal(std::string(context) + ": out of memory");
    } catch (const std::exception& e) {
      return Status::Internal(std::string(context) + ": " + e.what());
    } catch (...) {
      return Status::Internal(std::string(context) + ": unknown exception");
    }
  } catch (...) {
    // Building the message itself failed (out of memory): say so without allocating much.
    return Status(Code::kInternal, {});
  }
}

}  // namespace goethe::kv::lmdb_backend
