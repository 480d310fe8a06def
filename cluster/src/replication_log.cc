#include "replication_log.h"

#include "replication_wire.h"

#include <cstdio>
#include <random>

#include "goethe/engine/kv_status.h"
#include "goethe/engine/replication.h"

namespace goethe::cluster {
namespace {

void Put64(std::string* out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

std::uint64_t Get64(std::string_view bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return value;
}

std::string EncodeId(const EntryId& id) {
  std::string out;
  Put64(&out, id.index);
  Put64(&out, id.epoch);
  Put64(&out, id.generation);
  return out;
}

}  // namespace

bool DecodeMarker(const std::string& value, EntryId* id) {
  if (value.size() != 24) return false;
  *id = EntryId{Get64(value), Get64(value.substr(8)), Get64(value.substr(16))};
  return true;
}

std::string ToString(const EntryId& id) {
  return std::to_string(id.index) + "@e" + std::to_string(id.epoch) + "g" + std::to_string(id.generation);
}

std::string ReplicationLog::EncodeEntry(const LogEntry& entry) {
  std::string value;
  value.reserve(16 + entry.ops.size());
  Put64(&value, entry.id.epoch);
  Put64(&value, entry.id.generation);
  value.append(entry.ops);
  return value;
}

std::optional<LogEntry> ReplicationLog::DecodeEntry(std::uint64_t index, std::string_view value) {
  if (value.size() < 16) return std::nullopt;
  LogEntry entry;
  entry.id = EntryId{index, Get64(value), Get64(value.substr(8))};
  entry.ops.assign(value.substr(16));
  return entry;
}

Status ReplicationLog::Load() {
  EntryId applied;
  std::string value;
  kv::Status id = store_.Get({}, replication_keys::StoreId(), &store_id_);
  if (id.IsNotFound()) {
    std::random_device random;
    char text[33];
    std::snprintf(text, sizeof text, "%08x%08x%08x%08x", random(), random(), random(), random());
    store_id_ = text;
    kv::WriteBatch batch;
    batch.Put(replication_keys::StoreId(), store_id_);
    if (kv::Status w = store_.Write({.sync = true}, batch); !w.ok()) return FromKv(w, "writing the store id");
  } else if (!id.ok()) {
    return FromKv(id, "reading the store id");
  }
  kv::Status got = store_.Get({}, replication_keys::Marker(), &value);
  if (got.ok()) {
    if (!DecodeMarker(value, &applied)) return DataLoss("damaged replication marker");
  } else if (!got.IsNotFound()) {
    return FromKv(got, "reading the replication marker");
  } else if (Result<bool> data = HoldsTopics(); !data.ok()) {
    return data.status();
  } else if (*data) {
    // Data from before this store was replicated (a single node joining a cluster): its state at
    // "entry 0" is its own, so it gets an id no other store has, and agrees with nobody's.
    applied = EntryId{0, 0, std::random_device{}() | std::uint64_t{1} << 63};
    kv::WriteBatch batch;
    MarkApplied(&batch, applied);
    if (kv::Status w = store_.Write({.sync = true}, batch); !w.ok()) return FromKv(w, "writing the replication marker");
  }
  const std::string begin = replication_keys::LogBegin(), end = replication_keys::LogEnd();
  auto it = store_.NewIterator({.lower_bound = begin, .upper_bound = end});
  EntryId last = applied;
  std::uint64_t first = 0;
  it->SeekToFirst();
  if (it->Valid() && replication_keys::LogIndex(it->key(), &first)) {
    it->SeekToLast();
    std::uint64_t index = 0;
    if (!it->Valid() || !replication_keys::LogIndex(it->key(), &index)) return DataLoss("damaged replication log");
    auto entry = DecodeEntry(index, it->value());
    if (!entry) return DataLoss("damaged replication log entry " + std::to_string(index));
    if (index > applied.index) last = entry->id;
  }
  if (!it->status().ok()) return FromKv(it->status(), "reading the replication log");
  std::lock_guard lock(mutex_);
  applied_ = applied;
  last_ = last;
  first_index_ = first;
  return Status::Ok();
}

Result<bool> ReplicationLog::HoldsTopics() const {
  const std::string begin = replication_keys::TopicsBegin(), end = replication_keys::TopicsEnd();
  auto it = store_.NewIterator({.lower_bound = begin, .upper_bound = end});
  it->SeekToFirst();
  if (!it->status().ok()) return FromKv(it->status(), "reading topics");
  return it->Valid();
}

EntryId ReplicationLog::applied() const {
  std::lock_guard lock(mutex_);
  return applied_;
}

EntryId ReplicationLog::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

std::uint64_t ReplicationLog::first_index() const {
  std::lock_guard lock(mutex_);
  return first_index_;
}

Status ReplicationLog::Append(std::uint64_t prev_index, const std::vector<LogEntry>& entries, bool sync) {
  if (entries.empty()) return Status::Ok();
  {
    std::lock_guard lock(mutex_);
    if (prev_index < applied_.index)
      return FailedPrecondition("entries after " + std::to_string(prev_index) + " would replace applied entry " +
                                ToString(applied_));
    if (prev_index > last_.index)
      return FailedPrecondition("entries after " + std::to_string(prev_index) + " leave a gap after " + ToString(last_));
  }
  kv::WriteBatch batch;
  batch.DeleteRange(replication_keys::LogEntry(prev_index + 1), replication_keys::LogEnd());
  std::uint64_t expected = prev_index + 1;
  for (const LogEntry& entry : entries) {
    if (entry.id.index != expected) return InvalidArgument("replicated entries out of order");
    batch.Put(replication_keys::LogEntry(entry.id.index), EncodeEntry(entry));
    ++expected;
  }
  if (kv::Status w = store_.Write({.sync = sync}, batch); !w.ok()) return FromKv(w, "writing replicated entries");
  std::lock_guard lock(mutex_);
  last_ = entries.back().id;
  if (first_index_ == 0 || first_index_ > entries.front().id.index) first_index_ = entries.front().id.index;
  return Status::Ok();
}

Status ReplicationLog::DropFrom(std::uint64_t index) {
  EntryId previous;
  {
    std::lock_guard lock(mutex_);
    if (index <= applied_.index) return FailedPrecondition("cannot drop applied entry " + std::to_string(index));
  }
  auto id = IdAt(index - 1);
  if (!id.ok()) return id.status();
  kv::WriteBatch batch;
  batch.DeleteRange(replication_keys::LogEntry(index), replication_keys::LogEnd());
  if (kv::Status w = store_.Write({}, batch); !w.ok()) return FromKv(w, "dropping replicated entries");
  std::lock_guard lock(mutex_);
  last_ = id->value_or(applied_);
  return Status::Ok();
}

Result<std::optional<LogEntry>> ReplicationLog::Read(std::uint64_t index) const {
  std::string value;
  kv::Status got = store_.Get({}, replication_keys::LogEntry(index), &value);
  if (got.IsNotFound()) return std::optional<LogEntry>();
  if (!got.ok()) return FromKv(got, "reading replication log entry " + std::to_string(index));
  auto entry = DecodeEntry(index, value);
  if (!entry) return DataLoss("damaged replication log entry " + std::to_string(index));
  return std::optional<LogEntry>(std::move(*entry));
}

Result<std::optional<EntryId>> ReplicationLog::IdAt(std::uint64_t index) const {
  {
    std::lock_guard lock(mutex_);
    if (index == applied_.index) return std::optional<EntryId>(applied_);
    if (index == last_.index) return std::optional<EntryId>(last_);
  }
  if (index == 0) return std::optional<EntryId>(EntryId{});
  auto entry = Read(index);
  if (!entry.ok()) return entry.status();
  if (!entry->has_value()) return std::optional<EntryId>();
  return std::optional<EntryId>((*entry)->id);
}

void ReplicationLog::MarkApplied(kv::WriteBatch* batch, const EntryId& id) {
  batch->Put(replication_keys::Marker(), EncodeId(id));
}

void ReplicationLog::Applied(const EntryId& id) {
  std::lock_guard lock(mutex_);
  applied_ = id;
  if (last_.index < id.index) last_ = id;
}

void ReplicationLog::Reset(const EntryId& id) {
  std::lock_guard lock(mutex_);
  applied_ = id;
  last_ = id;
  first_index_ = 0;
}

Status ReplicationLog::Trim(std::uint64_t keep) {
  std::uint64_t below;
  {
    std::lock_guard lock(mutex_);
    if (first_index_ == 0 || applied_.index < keep || applied_.index - keep <= first_index_) return Status::Ok();
    below = applied_.index - keep;
  }
  kv::WriteBatch batch;
  batch.DeleteRange(replication_keys::LogBegin(), replication_keys::LogEntry(below));
  if (kv::Status w = store_.Write({}, batch); !w.ok()) return FromKv(w, "trimming the replication log");
  std::lock_guard lock(mutex_);
  first_index_ = below;
  return Status::Ok();
}

}  // namespace goethe::cluster
