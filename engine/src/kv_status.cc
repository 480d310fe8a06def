#include "goethe/engine/kv_status.h"

namespace goethe {

Status FromKv(const kv::Status& status, const std::string& context) {
  const std::string message = context.empty() ? status.message() : context + ": " + status.message();
  switch (status.code()) {
    case kv::Code::kOk: return Status::Ok();
    case kv::Code::kNotFound: return NotFound(message);
    case kv::Code::kInvalidArgument: return InvalidArgument(message);
    case kv::Code::kNoSpace: return ResourceExhausted(message);
    case kv::Code::kCorruption: return DataLoss(message);
    case kv::Code::kBusy: return Unavailable(message);
    case kv::Code::kIoError: return Unavailable(message);
    case kv::Code::kNotSupported: return FailedPrecondition(message);
    case kv::Code::kInternal: return Internal(message);
  }
  return Internal(message);
}

}  // namespace goethe
