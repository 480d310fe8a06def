// What the plugins check about a store's directory before their library opens it. Header-only,
// so that each plugin stays one self-contained shared library.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "goethe/kv/status.h"

namespace goethe::kv::backend_common {

// Creates the directory when missing; a regular file or a read-only directory gives a clear
// IoError naming the path, rather than whatever the library says about its LOCK file.
inline Status PrepareDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("cannot access store directory '" + path + "': " + ec.message());
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::IoError("store path '" + path + "' exists and is not a directory");
    }
  } else if (fs::create_directories(path, ec); ec) {
    return Status::IoError("cannot create store directory '" + path + "': " + ec.message());
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return Status::IoError("store directory '" + path + "' is not writable: " + std::strerror(errno));
  }
  return Status::Ok();
}

// Corruption when the directory holds a store (a MANIFEST, a log or a table file) but no CURRENT
// file. With create_if_missing, LevelDB would otherwise start a new, empty database there and
// delete the old files: every event gone without a word (tests/server_fault_corrupt_test.cc).
inline Status RequireCurrentFile(const std::string& path, const char* library) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path + "/CURRENT", ec)) return Status::Ok();
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    if (name.rfind("MANIFEST-", 0) == 0 || ext == ".log" || ext == ".ldb" || ext == ".sst") {
      return Status::Corruption("'" + path + "/CURRENT' is missing, but the directory holds a " + library +
                                " store (" + name + "): the store is damaged; restore it from a backup");
    }
  }
  return Status::Ok();
}

// " (CURRENT names MANIFEST-000005)", for open errors that do not say which file they read.
inline std::string NameTheManifest(const std::string& path) {
  std::ifstream current(path + "/CURRENT");
  std::string manifest;
  if (!std::getline(current, manifest) || manifest.empty()) return "";
  return " (in " + path + "/" + manifest + ", named by CURRENT)";
}

}  // namespace goethe::kv::backend_common
