// HttpServerTest: a fixture that starts a real goethe-server with its HTTP listener on a free
// loopback port (leveldb, sync off), for the tests of the HTTP side.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "server_process.h"
#include "temp_dir.h"

namespace goethe::testing {

class HttpServerTest : public ::testing::Test {
 protected:
  // A server with `http` lines under server.http (listen is added) and `server` lines under server.
  void Start(const std::string& http = "", const std::string& server = "") {
    std::string lines = server + "http:\n  listen: 127.0.0.1:0\n";
    std::istringstream in(http);
    for (std::string line; std::getline(in, line);) lines += "  " + line + "\n";
    server_ = std::make_unique<ServerProcess>(
        dir_, dir_.WriteFile("goethe.yaml", ServerConfigYaml("leveldb", dir_.Sub("data"), false, lines)));
    http_ = server_->http_address();
    ASSERT_FALSE(http_.empty()) << server_->output();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string http_;
};

}  // namespace goethe::testing
