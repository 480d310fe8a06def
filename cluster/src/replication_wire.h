// EntryId and LogEntry to and from their wire form, and the replication marker's bytes.
#pragma once

#include <string>

#include "goethe/cluster/v1/replication.pb.h"
#include "replication_log.h"

namespace goethe::cluster {

inline void ToProto(const EntryId& id, v1::EntryId* out) {
  out->set_index(id.index);
  out->set_epoch(id.epoch);
  out->set_generation(id.generation);
}

inline EntryId FromProto(const v1::EntryId& id) { return EntryId{id.index(), id.epoch(), id.generation()}; }

inline void ToProto(const LogEntry& entry, v1::LogEntry* out) {
  ToProto(entry.id, out->mutable_id());
  out->set_ops(entry.ops);
}

inline LogEntry FromProto(const v1::LogEntry& entry) { return LogEntry{FromProto(entry.id()), entry.ops()}; }

// The marker's value (ReplicationLog::MarkApplied) as an EntryId; false when damaged.
bool DecodeMarker(const std::string& value, EntryId* id);

}  // namespace goethe::cluster
