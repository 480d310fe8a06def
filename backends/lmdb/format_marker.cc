#include "format_marker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace goethe::kv::lmdb_backend {
namespace {

constexpr const char* kMarkerComment =
    "# Written by Goethe's LMDB plugin. Every value in data.mdb ends in a 4-byte CRC-32 of its key\n"
    "# and value. Do not edit or delete this file: without it the store is refused at open.\n";

Status Errno(const std::string& what, const std::string& file) {
  return Status::IoError("cannot " + what + " '" + file + "': " + std::strerror(errno));
}

// Writes the whole text and fsyncs it; false (errno set) on failure.
bool WriteAndSync(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0;
}

// Temporary file, fsync, rename, fsync of the directory: after a crash the marker is either
// whole or absent, and it is on disk before LMDB creates data.mdb.
Status WriteMarker(const std::string& dir, const std::string& marker) {
  const std::string temp = marker + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temp);
  const bool written = WriteAndSync(fd, std::string(kFormatMarkerLine) + "\n" + kMarkerComment);
  const int saved = errno;
  ::close(fd);
  if (!written) {
    errno = saved;
    return Errno("write", temp);
  }
  if (::rename(temp.c_str(), marker.c_str()) != 0) return Errno("rename to", marker);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Errno("open", dir);
  const bool synced = ::fsync(dir_fd) == 0;
  ::close(dir_fd);
  return synced ? Status::Ok() : Errno("fsync", dir);
}

}  // namespace

Status CheckOrWriteFormatMarker(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string marker = dir + "/" + kFormatMarkerFile;
  const std::string data_file = dir + "/data.mdb";
  std::error_code ec;
  const bool has_data = fs::exists(data_file, ec);
  if (ec) return Status::IoError("cannot access '" + data_file + "': " + ec.message());
  const bool has_marker = fs::exists(marker, ec);
  if (ec) return Status::IoError("cannot access '" + marker + "': " + ec.message());

  if (!has_marker) {
    if (!has_data) return WriteMarker(dir, marker);
    return Status::NotSupported(
        "'" + marker + "' is missing, but '" + data_file + "' exists: the store was written by a Goethe " +
        "version without LMDB value checksums (or the marker was deleted), and this version cannot read it; " +
        "serve it with the version that wrote it, or move the directory aside to start an empty store");
  }
  std::ifstream in(marker);
  std::string line;
  if (!std::getline(in, line) && !in.eof()) return Status::IoError("cannot read '" + marker + "'");
  if (line != kFormatMarkerLine) {
    const std::string says = line.empty() ? "is empty" : "says '" + line.substr(0, 80) + "'";
    return Status::NotSupported("'" + marker + "' " + says + ", but this Goethe reads '" +
                                kFormatMarkerLine +
                                "': the store is in another format (serve it with the Goethe version that wrote it), or the marker is damaged");
  }
  return Status::Ok();
}

}  // namespace goethe::kv::lmdb_backend
