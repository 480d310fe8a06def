#include "waiters.h"

#include <vector>

namespace goethe {

Waiters::Id Waiters::Add(std::uint64_t offset, std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  const Id id = next_id_++;
  by_id_[id] = by_offset_.emplace(offset, Entry{id, std::move(wake)});
  return id;
}

std::function<void()> Waiters::Take(Id id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return {};
  std::function<void()> wake = std::move(it->second->second.wake);
  by_offset_.erase(it->second);
  by_id_.erase(it);
  return wake;
}

void Waiters::Fire(std::uint64_t head) { FireWhere(head, /*all=*/false); }

void Waiters::FireAll() { FireWhere(0, /*all=*/true); }

void Waiters::FireWhere(std::uint64_t head, bool all) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    auto end = all ? by_offset_.end() : by_offset_.lower_bound(head);
    for (auto it = by_offset_.begin(); it != end; ++it) {
      by_id_.erase(it->second.id);
      ready.push_back(std::move(it->second.wake));
    }
    by_offset_.erase(by_offset_.begin(), end);
  }
  // Called outside the lock, so that a callback may register again.
  for (auto& wake : ready) wake();
}

}  // namespace goethe
