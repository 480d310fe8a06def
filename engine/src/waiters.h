// Waiters: the readers tailing one topic, each waiting for one offset to become durable.
//
// The commit loop calls Fire(head) after it publishes a new head; every waiter whose offset is now
// below the head is removed and called, outside the lock, so a callback may register again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

namespace goethe {

class Waiters {
 public:
  using Id = std::uint64_t;

  // Registers `wake` for `offset`; returns its id (never 0).
  Id Add(std::uint64_t offset, std::function<void()> wake);
  // Removes a waiter and hands back its callback; empty when it already fired or never existed.
  std::function<void()> Take(Id id);
  bool Cancel(Id id) { return static_cast<bool>(Take(id)); }
  // Calls and removes every waiter whose offset is < head.
  void Fire(std::uint64_t head);
  // Calls and removes every waiter (topic deleted, log closing).
  void FireAll();

 private:
  struct Entry {
    Id id;
    std::function<void()> wake;
  };
  // Calls and removes the waiters below `head`, or every waiter when `all`.
  void FireWhere(std::uint64_t head, bool all);

  std::mutex mutex_;
  Id next_id_ = 1;
  std::multimap<std::uint64_t, Entry> by_offset_;
  std::unordered_map<Id, std::multimap<std::uint64_t, Entry>::iterator> by_id_;
};

}  // namespace goethe
