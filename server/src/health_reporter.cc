#include "health_reporter.h"

#include <spdlog/spdlog.h>

#include "goethe/v1/goethe.grpc.pb.h"

namespace goethe::server {

void HealthReporter::Follow(cluster::Coordinator* coordinator) {
  {
    std::lock_guard lock(mutex_);
    coordinator_ = coordinator;
  }
  coordinator->OnChange([this] { Update(); });
}

void HealthReporter::Attach(grpc::HealthCheckServiceInterface* health) {
  {
    std::lock_guard lock(mutex_);
    health_ = health;
  }
  Update();
}

void HealthReporter::Update() {
  std::lock_guard lock(mutex_);
  if (health_ == nullptr) return;
  bool serving = true;
  if (coordinator_ != nullptr) {
    serving = coordinator_->View().reachable &&
              (coordinator_->IsLeader() || coordinator_->State() == cluster::MemberState::kInSync);
  }
  if (reported_ && serving == last_) return;
  if (reported_ && coordinator_ != nullptr) spdlog::info("health: {}", serving ? "SERVING" : "NOT_SERVING");
  health_->SetServingStatus(v1::Goethe::service_full_name(), serving);
  health_->SetServingStatus(serving);
  last_ = serving;
  reported_ = true;
}

void HealthReporter::Shutdown() {
  std::lock_guard lock(mutex_);
  if (health_ != nullptr) health_->Shutdown();
  health_ = nullptr;
}

bool HealthReporter::Serving() {
  std::lock_guard lock(mutex_);
  return health_ != nullptr && reported_ && last_;
}

}  // namespace goethe::server
