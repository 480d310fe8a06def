// The HTTP side's routes (docs/http.md): what each path answers, and who may ask. The listener
// (http_listener.h) parses and limits; this decides.
#pragma once

#include <functional>
#include <string>

#include "access_policy.h"
#include "http_api.h"
#include "http_console.h"
#include "http_listener.h"

namespace goethe::server {

struct HttpRoutesContext {
  const AccessPolicy* access = nullptr;
  const HttpApi* api = nullptr;            // the JSON API under /v1; it checks tokens as gRPC does
  bool open_metrics = false;               // server.http.open_metrics
  std::function<std::string()> metrics;    // the Prometheus text of a scrape
  std::function<bool()> serving;           // what the gRPC health service says
  const ConsoleFiles* console = nullptr;   // the web console's files at / and /console/
};

HttpHandler MakeHttpRoutes(HttpRoutesContext context);

}  // namespace goethe::server
