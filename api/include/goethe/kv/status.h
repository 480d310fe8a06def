// Status: the outcome of a key-value operation, returned as a value.
//
// Nothing crosses the plugin boundary as an exception: every plugin catches what its database
// library throws and turns it into a Status. A Status is a plain value type, safe to copy and to
// pass between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace goethe::kv {

// What went wrong, in terms a caller can act on. Each plugin maps its library's errors onto these.
enum class Code {
  kOk = 0,
  kNotFound,         // the key is absent (Get only)
  kInvalidArgument,  // the caller's input breaks a rule of this interface (key size, option value)
  kIoError,          // the operating system refused a read or write
  kNoSpace,          // the disk or the configured map is full; retry after space returns
  kCorruption,       // stored data failed a check; the store must not be trusted
  kBusy,             // a transient condition (e.g. a lock held elsewhere); retrying may succeed
  kNotSupported,     // the backend cannot do this
  kInternal,         // a bug in the plugin or the library
};

// Returns a short stable name for a code, e.g. "NotFound".
constexpr std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kIoError: return "IOError";
    case Code::kNoSpace: return "NoSpace";
    case Code::kCorruption: return "Corruption";
    case Code::kBusy: return "Busy";
    case Code::kNotSupported: return "NotSupported";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: key absent"; "OK" for success.
  std::string ToString() const {
    if (ok()) return "OK";
    std::string out(CodeName(code_));
    if (!message_.empty()) out.append(": ").append(message_);
    return out;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace goethe::kv
