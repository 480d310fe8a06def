// ReplicationLog: one node's replication state in its own store (docs/storage.md): the log of
// entries ('R' index -> epoch, generation, encoded batch) and the marker of what the store has
// applied, which every applied batch rewrites in the same write as its data.
//
// Entries above the applied one are held but not applied: they may not be committed, and a new
// leader may replace them. Applied entries are committed and are never dropped, only trimmed once
// old enough (a follower further behind gets a snapshot instead).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "goethe/engine/status.h"
#include "goethe/kv/store.h"

namespace goethe::cluster {

struct EntryId {
  std::uint64_t index = 0;
  std::uint64_t epoch = 0;
  std::uint64_t generation = 0;
  bool operator==(const EntryId&) const = default;
};
std::string ToString(const EntryId& id);  // "7@e12g0"

struct LogEntry {
  EntryId id;
  std::string ops;  // batch_codec.h
};

class ReplicationLog {
 public:
  explicit ReplicationLog(kv::Store& store) : store_(store) {}

  // Reads the marker and the ends of the log.
  Status Load();

  // This store's id (created at the first Load, kept across copies of the leader's store).
  const std::string& store_id() const { return store_id_; }
  EntryId applied() const;
  EntryId last() const;  // the applied entry when the log holds nothing above it
  std::uint64_t first_index() const;  // the oldest entry held; 0 when none is

  // Appends `entries` (none: nothing happens) after the entry at `prev_index`, dropping every
  // entry after that first, in one write (durable when `sync`). Refuses to drop an applied entry
  // or to leave a gap.
  Status Append(std::uint64_t prev_index, const std::vector<LogEntry>& entries, bool sync);
  // Drops the entries from `index` on (not yet applied ones only).
  Status DropFrom(std::uint64_t index);
  // The entry at `index`; nullopt when the log does not hold it.
  Result<std::optional<LogEntry>> Read(std::uint64_t index) const;
  // The id of the entry at `index`, also for the applied entry when trimmed; nullopt when unknown.
  Result<std::optional<EntryId>> IdAt(std::uint64_t index) const;

  // Adds to `batch` the marker saying `id` is applied (the caller writes the batch), and after the
  // write, Applied(id) records it here.
  static void MarkApplied(kv::WriteBatch* batch, const EntryId& id);
  void Applied(const EntryId& id);
  // After a snapshot: the store holds exactly what was applied up to `id`, and no entry.
  void Reset(const EntryId& id);

  // Deletes entries older than the newest `keep` applied ones.
  Status Trim(std::uint64_t keep);

  static std::string EncodeEntry(const LogEntry& entry);
  static std::optional<LogEntry> DecodeEntry(std::uint64_t index, std::string_view value);

 private:
  Result<bool> HoldsTopics() const;

  kv::Store& store_;
  mutable std::mutex mutex_;
  EntryId applied_;
  EntryId last_;
  std::uint64_t first_index_ = 0;
  std::string store_id_;  // set by Load, never changed
};

}  // namespace goethe::cluster
