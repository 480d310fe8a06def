// The web console's files (console/ in the repository, docs/http.md#web-console): `/` answers its
// index.html, `/console/<path>` the rest. Plain files read from disk at each request, so that the
// console needs no build step and an edited file shows on reload. They hold no data and need no
// token: the console asks for one when the API it calls refuses it.
#pragma once

#include <optional>
#include <string>

#include "http_listener.h"

namespace goethe::server {

class ConsoleFiles {
 public:
  // The directory to serve: `configured` (server.http.console_dir) when set, else the installed
  // copy beside the binary (<bin>/../share/goethe/console), else the source tree's. Empty when
  // none holds an index.html; `looked_in` then says where it looked.
  static std::string Locate(const std::string& configured, std::string* looked_in);

  // `dir` empty: no console; its paths answer 404 with `missing_why`.
  ConsoleFiles(std::string dir, std::string missing_why);

  // nullopt when the request is not for a console path.
  std::optional<HttpResponse> Serve(const HttpRequest& request) const;

 private:
  std::string dir_;
  std::string missing_why_;
};

}  // namespace goethe::server
