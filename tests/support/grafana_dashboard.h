// The shipped Grafana dashboard (deploy/grafana/goethe.json) as tests check it: its queries, and
// the metric names each uses, to be found in a real server's scrape. Read as text: the file holds
// one "expr" string per target. (No std::regex: GCC 12 at -O1 warns inside it, and warnings are
// errors here.)
#pragma once

#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "child_process.h"

namespace goethe::testing {

inline std::vector<std::string> DashboardQueries() {
  const std::string dashboard = ReadWholeFile(std::string(GOETHE_TEST_SOURCE_DIR) + "/deploy/grafana/goethe.json");
  std::vector<std::string> queries;
  const std::string key = "\"expr\": \"";
  for (std::size_t at = dashboard.find(key); at != std::string::npos; at = dashboard.find(key, at + 1)) {
    std::string expr;
    for (std::size_t i = at + key.size(); i < dashboard.size() && dashboard[i] != '"'; ++i) {
      if (dashboard[i] == '\\') ++i;  // an escaped quote or backslash stands for itself
      expr += dashboard[i];
    }
    queries.push_back(expr);
  }
  return queries;
}

// The goethe_* and process_* metric names in a query.
inline std::vector<std::string> MetricNamesIn(const std::string& expr) {
  std::vector<std::string> names;
  for (const std::string prefix : {"goethe_", "process_"}) {
    for (std::size_t name = expr.find(prefix); name != std::string::npos; name = expr.find(prefix, name + 1)) {
      std::size_t end = name;
      while (end < expr.size() && (std::islower(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) ++end;
      names.push_back(expr.substr(name, end - name));
    }
  }
  return names;
}

// Whether a scrape declares the family `name` belongs to (a histogram's _bucket, _sum and _count
// belong to the histogram).
inline bool ScrapeDeclares(const std::string& scrape, std::string name) {
  if (scrape.find("# TYPE " + name + " ") != std::string::npos) return true;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      name = name.substr(0, name.size() - std::strlen(suffix));
      return scrape.find("# TYPE " + name + " ") != std::string::npos;
    }
  }
  return false;
}

}  // namespace goethe::testing
