// TopicRegistry: the live topics by name and by id, shared by readers and the commit loop.
// Only the commit loop adds or removes topics; lookups take a shared lock.
#pragma once

#include <map>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "topic_state.h"

namespace goethe {

class TopicRegistry {
 public:
  TopicPtr Find(const std::string& name) const {
    std::shared_lock lock(mutex_);
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  std::vector<TopicPtr> All() const {
    std::shared_lock lock(mutex_);
    std::vector<TopicPtr> all;
    for (const auto& [name, topic] : by_name_) all.push_back(topic);
    return all;
  }
  void Add(TopicPtr topic) {
    std::unique_lock lock(mutex_);
    by_name_[topic->name] = std::move(topic);
  }
  void Remove(const std::string& name) {
    std::unique_lock lock(mutex_);
    by_name_.erase(name);
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, TopicPtr> by_name_;  // ordered, so listings come sorted
};

}  // namespace goethe
