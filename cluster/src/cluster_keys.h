// Where a cluster keeps its state in etcd (docs/cluster.md lists them for operators):
//   /goethe/<cluster>/members/<node>   MemberRecord (JSON), attached to the node's session lease
//   /goethe/<cluster>/leader/<lease>   election keys: the one with the lowest creation revision
//                                      leads, and that revision is its epoch (etcd's Election API)
//   /goethe/<cluster>/epoch            LeaderRecord (JSON) of the current epoch, written only by its
//                                      leader, in a transaction fenced by its election key
//   /goethe/<cluster>/insync           InSyncRecord (JSON): the in-sync set, written the same way
#pragma once

#include <string>

namespace goethe::cluster {

struct ClusterKeys {
  explicit ClusterKeys(const std::string& cluster)
      : root("/goethe/" + cluster + "/"),
        members(root + "members/"),
        election(root + "leader"),
        election_prefix(election + "/"),
        epoch(root + "epoch"),
        in_sync(root + "insync") {}

  std::string Member(const std::string& node) const { return members + node; }

  std::string root;             // everything of the cluster
  std::string members;          // prefix of the member records
  std::string election;         // the election's name, as Campaign takes it
  std::string election_prefix;  // prefix of the candidates' keys
  std::string epoch;
  std::string in_sync;
};

}  // namespace goethe::cluster
