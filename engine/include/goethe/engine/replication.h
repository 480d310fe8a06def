// What a cluster's replication needs of the engine, and nothing more (docs/cluster.md):
//   - every batch the commit loop stages goes through a CommitWriter, which a replicator replaces
//     to make the batch durable on the in-sync members before it is written here, and to refuse
//     local batches on a follower;
//   - a follower applies the batches the leader decided (EventLog::ApplyDecided) and the live
//     state follows them; after a snapshot replaced the store's contents, EventLog::Reload;
//   - the replicator's own keys — its log of entries and a marker written atomically with every
//     applied batch — live in families the engine reserves for it (docs/storage.md).
// The engine never includes anything of the cluster.
#pragma once

#include <cstdint>
#include <string>

#include "goethe/engine/status.h"
#include "goethe/kv/write_batch.h"

namespace goethe {

// Writes the batches the commit loop staged. Without one the engine writes each to the store.
class CommitWriter {
 public:
  virtual ~CommitWriter() = default;
  // Called on the commit loop's thread, one batch at a time, in commit order. OK: the batch (and
  // whatever the writer added to it) is in the store, durable as `sync` asks. Any other status
  // fails every job of the batch, and the live state stays as it was before the batch.
  virtual Status Write(kv::WriteBatch& batch, bool sync) = 0;
};

// The keys replication keeps in the engine's keyspace.
namespace replication_keys {
// 'R' index (big-endian): one entry of the replication log.
std::string LogEntry(std::uint64_t index);
std::string LogBegin();  // the first possible entry key
std::string LogEnd();    // above every entry key
// The index of an entry key; false when `key` is not one.
bool LogIndex(std::string_view key, std::uint64_t* index);
// 'M' "replication": where replication records what the store has applied.
std::string Marker();
// 'M' "store_id": this store's own random id, so that a store that was wiped (or replaced) is
// never taken for the one a node had before.
std::string StoreId();
// True for keys that belong to replication rather than to the replicated state: what a snapshot
// leaves out.
bool IsReplicationKey(std::string_view key);
// The range of the engine's topic records: a store with one holds state.
std::string TopicsBegin();
std::string TopicsEnd();
}  // namespace replication_keys

}  // namespace goethe
