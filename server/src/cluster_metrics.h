// The cluster's figures on every scrape (docs/http.md#metrics): leadership, epoch, members, the
// in-sync set and how far each member is behind the leader. All from this node's view of etcd
// (Coordinator::View), never from the replicator's state, so a scrape waits on nothing a write does.
#pragma once

#include "goethe/cluster/coordinator.h"
#include "goethe/metrics/registry.h"

namespace goethe::server {

// `coordinator` must outlive the registry's scrapes.
void CollectClusterAtScrape(metrics::Registry& registry, const cluster::Coordinator& coordinator);

}  // namespace goethe::server
