// CountingStore: a kv::Store decorator that forwards everything to a real store and counts the
// reads made through it — point gets, iterator seeks and iterator steps — so that a test can show
// how many reads an engine operation costs without knowing the engine's key layout. It also keeps
// the key of every put, so that a test can see which keys the engine writes more than once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goethe/kv/store.h"

namespace goethe::testing {

struct ReadCounts {
  std::uint64_t gets = 0;       // Store::Get
  std::uint64_t seeks = 0;      // Seek, SeekForPrev, SeekToFirst, SeekToLast
  std::uint64_t steps = 0;      // Next, Prev
  std::uint64_t iterators = 0;  // NewIterator
  std::uint64_t reads() const { return gets + seeks + steps; }
};

class CountingStore : public kv::Store {
 public:
  explicit CountingStore(std::shared_ptr<kv::Store> inner) : inner_(std::move(inner)) {}

  ReadCounts counts() const {
    return {gets_.load(), seeks_.load(), steps_.load(), iterators_.load()};
  }
  void Reset() {
    gets_ = 0;
    seeks_ = 0;
    steps_ = 0;
    iterators_ = 0;
  }

  // The keys of every put written through this store, in order.
  std::vector<std::string> put_keys() const {
    std::lock_guard lock(put_keys_mutex_);
    return put_keys_;
  }

  kv::Status Write(const kv::WriteOptions& options, const kv::WriteBatch& batch) override {
    kv::Status s = inner_->Write(options, batch);
    if (s.ok()) {
      std::lock_guard lock(put_keys_mutex_);
      for (const kv::WriteBatch::Op& op : batch.ops()) {
        if (op.type == kv::WriteBatch::OpType::kPut) put_keys_.emplace_back(op.key);
      }
    }
    return s;
  }
  kv::Status Get(const kv::ReadOptions& options, std::string_view key, std::string* value) override {
    ++gets_;
    return inner_->Get(options, key, value);
  }
  std::unique_ptr<kv::Iterator> NewIterator(const kv::ReadOptions& options) override {
    ++iterators_;
    return std::make_unique<CountingIterator>(inner_->NewIterator(options), this);
  }
  std::unique_ptr<kv::Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  kv::Status ApproximateSize(std::string_view begin, std::string_view end,
                             std::uint64_t* bytes) override {
    return inner_->ApproximateSize(begin, end, bytes);
  }
  kv::Status Flush() override { return inner_->Flush(); }

 private:
  class CountingIterator : public kv::Iterator {
   public:
    CountingIterator(std::unique_ptr<kv::Iterator> inner, CountingStore* owner)
        : inner_(std::move(inner)), owner_(owner) {}
    bool Valid() const override { return inner_->Valid(); }
    void SeekToFirst() override {
      ++owner_->seeks_;
      inner_->SeekToFirst();
    }
    void SeekToLast() override {
      ++owner_->seeks_;
      inner_->SeekToLast();
    }
    void Seek(std::string_view target) override {
      ++owner_->seeks_;
      inner_->Seek(target);
    }
    void SeekForPrev(std::string_view target) override {
      ++owner_->seeks_;
      inner_->SeekForPrev(target);
    }
    void Next() override {
      ++owner_->steps_;
      inner_->Next();
    }
    void Prev() override {
      ++owner_->steps_;
      inner_->Prev();
    }
    std::string_view key() const override { return inner_->key(); }
    std::string_view value() const override { return inner_->value(); }
    kv::Status status() const override { return inner_->status(); }

   private:
    std::unique_ptr<kv::Iterator> inner_;
    CountingStore* owner_;
  };

  std::shared_ptr<kv::Store> inner_;
  std::atomic<std::uint64_t> gets_{0};
  std::atomic<std::uint64_t> seeks_{0};
  std::atomic<std::uint64_t> steps_{0};
  std::atomic<std::uint64_t> iterators_{0};
  mutable std::mutex put_keys_mutex_;
  std::vector<std::string> put_keys_;
};

}  // namespace goethe::testing
