#include "stream_registry.h"

#include <string>
#include <vector>

namespace goethe::server {

Status StreamRegistry::Admit(std::shared_ptr<ShutdownTarget> stream) {
  std::lock_guard lock(mutex_);
  if (closing_) return Unavailable("server shutting down");
  if (streams_.size() >= max_streams_)
    return ResourceExhausted("too many concurrent streams: the limit is " + std::to_string(max_streams_) +
                             " (server.max_concurrent_streams); retry later");
  const ShutdownTarget* key = stream.get();
  streams_.emplace(key, std::move(stream));
  return Status::Ok();
}

void StreamRegistry::Remove(const ShutdownTarget* stream) {
  std::shared_ptr<ShutdownTarget> removed;  // released after the lock, in case it is the last owner
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  removed = std::move(it->second);
  streams_.erase(it);
}

void StreamRegistry::CloseAll() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  CloseOpen();
}

void StreamRegistry::CloseOpen() {
  std::vector<std::shared_ptr<ShutdownTarget>> open;
  {
    std::lock_guard lock(mutex_);
    open.reserve(streams_.size());
    for (const auto& [key, stream] : streams_) open.push_back(stream);
  }
  // Outside the lock: a closing stream may finish and Remove() itself right away.
  for (const auto& stream : open) stream->CloseForShutdown();
}

std::size_t StreamRegistry::size() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace goethe::server
