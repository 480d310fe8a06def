// server.http: the HTTP listener's address and limits (docs/config.md).
#include <filesystem>

#include "config_reader.h"

namespace goethe::config_internal {

Status ReadHttp(Config& c, const YAML::Node& node, const YAML::Mark& mark) {
  SectionReader r(c, "server.http");
  HttpConfig& http = c.server.http;
  r.On("listen", NonEmptyString(r, &http.listen));
  r.On("max_connections", Count(r, &http.max_connections));
  r.On("max_header_bytes", Size(r, &http.max_header_bytes));
  r.On("max_body_bytes", Size(r, &http.max_body_bytes));
  r.On("request_timeout", Duration(r, &http.request_timeout));
  r.On("idle_timeout", Duration(r, &http.idle_timeout));
  r.On("open_metrics", Bool(r, &http.open_metrics));
  r.On("console_dir", Path(r, &http.console_dir));
  if (Status s = r.Read(node, mark); !s.ok()) return s;
  if (!http.console_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::path(http.console_dir) / "index.html", ec))
      return InvalidArgument(c.Where("server.http.console_dir") + ": expected a directory holding the web console's " +
                             "index.html, got " + http.console_dir);
  }
  // Below this even a plain GET with a token cannot fit.
  if (http.max_header_bytes < 1024)
    return InvalidArgument(c.Where("server.http.max_header_bytes") + ": expected at least 1KiB, got " +
                           std::to_string(http.max_header_bytes) + " bytes");
  return Status::Ok();
}

}  // namespace goethe::config_internal
