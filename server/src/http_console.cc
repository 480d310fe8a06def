#include "http_console.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace goethe::server {
namespace {

constexpr std::string_view kAssetPrefix = "/console/";

// Nothing but the console's own files, scripts and styles; no framing by other sites.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

bool IsIndexDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  return !dir.empty() && std::filesystem::is_regular_file(dir / "index.html", ec);
}

// A relative path of plain names ([A-Za-z0-9_-] and inner dots), so that nothing outside the
// directory ("..", hidden files, percent-encoded tricks) can be named.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty()) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment.front() == '.') return false;
    for (const char c : segment) {
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '-' || c == '.';
      if (!plain) return false;
    }
    start = end + 1;
  }
  return true;
}

std::string ContentType(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  if (extension == ".html") return "text/html; charset=utf-8";
  if (extension == ".js") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".json") return "application/json";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  if (extension == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

std::string ConsoleFiles::Locate(const std::string& configured, std::string* looked_in) {
  if (!configured.empty()) return configured;  // loading the config checked that it holds index.html
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path binary = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(binary.parent_path().parent_path() / "share" / "goethe" / "console");
  candidates.emplace_back(GOETHE_SOURCE_CONSOLE_DIR);
  std::string looked;
  for (const std::filesystem::path& dir : candidates) {
    if (IsIndexDirectory(dir)) return dir.string();
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  if (looked_in != nullptr) *looked_in = looked;
  return {};
}

ConsoleFiles::ConsoleFiles(std::string dir, std::string missing_why)
    : dir_(std::move(dir)), missing_why_(std::move(missing_why)) {}

std::optional<HttpResponse> ConsoleFiles::Serve(const HttpRequest& request) const {
  std::string relative;
  if (request.path == "/") {
    relative = "index.html";
  } else if (request.path.starts_with(kAssetPrefix)) {
    relative = request.path.substr(kAssetPrefix.size());
  } else {
    return std::nullopt;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = JsonError(405, "UNIMPLEMENTED", "the console's files answer GET only");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  if (dir_.empty()) return JsonError(404, "NOT_FOUND", missing_why_);
  const std::filesystem::path file = std::filesystem::path(dir_) / relative;
  std::error_code ec;
  if (!IsSafeRelativePath(relative) || !std::filesystem::is_regular_file(file, ec))
    return JsonError(404, "NOT_FOUND", "no console file " + request.path);
  std::ifstream in(file, std::ios::binary);
  if (!in) return JsonError(500, "INTERNAL", "cannot read console file " + request.path);
  std::ostringstream body;
  body << in.rdbuf();
  HttpResponse response;
  response.content_type = ContentType(file);
  response.body = std::move(body).str();
  // Always asked again (a 304 when unchanged is not worth the code): an upgraded server's console
  // is never mixed with an older cached one.
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace goethe::server
