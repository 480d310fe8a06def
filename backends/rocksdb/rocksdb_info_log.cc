#include "rocksdb_info_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>

namespace goethe::kv::rocksdb_backend {
namespace {

class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(int fd) : fd_(fd) {}
  ~InfoLog() override { (void)CloseImpl(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[4096];
    timeval now{};
    gettimeofday(&now, nullptr);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    int used = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", local.tm_year + 1900,
                             local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                             static_cast<long>(now.tv_usec));
    if (used < 0) return;
    va_list copy;
    va_copy(copy, ap);
    const int body = std::vsnprintf(line + used, sizeof line - used, format, copy);
    va_end(copy);
    if (body < 0) return;
    used = std::min<int>(used + body, sizeof line - 2);  // a longer line is cut
    line[used++] = '\n';
    // One write() per line with O_APPEND: lines from several threads do not interleave. Errors
    // (a full disk) are ignored on purpose.
    (void)!write(fd_, line, static_cast<std::size_t>(used));
  }

 protected:
  rocksdb::Status CloseImpl() override {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    return rocksdb::Status::OK();
  }

 private:
  int fd_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& directory) {
  const std::string path = directory + "/LOG";
  (void)std::rename(path.c_str(), (path + ".old").c_str());
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  return std::make_shared<InfoLog>(fd);
}

}  // namespace goethe::kv::rocksdb_backend
