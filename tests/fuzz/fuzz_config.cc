// Fuzzes the YAML config loader: any file content gives a Config or a one-line error, never a
// crash, a hang, a leak or an exception escaping LoadConfig.
//
// Input: the bytes of a config file. Seeds: corpus/fuzz_config (copies of config/*.yaml and a few
// files that exercise every section and error path).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "goethe/engine/config.h"
#include "goethe/engine/event_log.h"

namespace {

// One file reused by every run of this process; removed at exit.
const std::string& ConfigFile() {
  static const std::string* path = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "goethe-fuzz-config-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) {
      std::perror("mkstemp");
      std::abort();
    }
    close(fd);
    auto* file = new std::string(pattern);
    std::atexit([] { std::remove(ConfigFile().c_str()); });
    return file;
  }();
  return *path;
}

void WriteFile(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = ConfigFile();
  WriteFile(path, data, size);

  goethe::Result<goethe::Config> config = goethe::LoadConfig(path);
  if (!config.ok()) {
    // The error is one line that names the file.
    const goethe::Status status = config.status();  // status() returns a copy: keep it alive
    if (status.message().rfind(path, 0) != 0) std::abort();
    return 0;
  }
  // Every key the loader recorded can be pointed at, and so can one it never saw.
  std::size_t total = 0;
  for (const auto& [key, line] : config->lines) {
    if (line < 1) std::abort();
    total += config->Where(key).size();
  }
  total += config->Where("no.such.key").size();
  // What a program does next with a loaded config.
  const goethe::EventLogOptions options = goethe::EventLogOptions::FromConfig(*config);
  if (options.max_event_bytes == 0 || options.max_commit_events == 0) std::abort();
  (void)total;

  // The duration parser on the raw text as well (config values are short scalars).
  if (size <= 64) {
    std::chrono::nanoseconds d{};
    if (goethe::ParseDuration(std::string(reinterpret_cast<const char*>(data), size), &d) && d.count() < 0) {
      std::abort();
    }
  }
  return 0;
}
