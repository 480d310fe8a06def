// Recovery's pieces that also serve a follower: what the store alone says of one topic, and of
// the loop's store-wide values. EventLog::Impl::Recover (at open) and the application of decided
// batches (decided.cc) both use them.
#pragma once

#include "commit_context.h"
#include "goethe/engine/status.h"
#include "goethe/kv/store.h"
#include "topic_state.h"

namespace goethe {

// Fills `topic`'s loop view (from scratch) from its retention record and its oldest and newest
// events, and checks them against each other: a damaged store is refused, never served with wrong
// counters. Does not publish.
Status RecoverTopic(kv::Store& store, KeyOrder order, TopicState& topic);

// The store format (which says the key order) and the next topic id, into `loop`.
Status RecoverLoopMeta(kv::Store& store, LoopState& loop);

}  // namespace goethe
