// EventLog: the public facade, opening and closing.
#include "goethe/engine/event_log.h"

#include <future>

#include "event_log_impl.h"

namespace goethe {
namespace {

TimestampNs SystemClock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateName(const std::string& name, const char* what) {
  if (name.empty() || name.size() > 255) {
    return InvalidArgument(std::string(what) + " name must be 1 to 255 bytes, got " +
                           std::to_string(name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument(std::string(what) + " name '" + name +
                             "' may only contain letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

}  // namespace

EventLogOptions EventLogOptions::FromConfig(const Config& config) {
  EventLogOptions options;
  options.sync = config.storage.sync;
  options.max_event_bytes = config.engine.max_event_bytes;
  options.max_key_bytes = config.engine.max_key_bytes;
  options.max_headers = config.engine.max_headers;
  options.idempotency_window = config.engine.idempotency_window;
  options.default_index_granularity = config.engine.time_index_granularity;
  options.retention_interval = config.engine.retention_interval;
  options.max_commit_events = config.engine.max_commit_events;
  options.key_order = config.engine.key_order;
  options.key_order_setting = config.Where("engine.key_order");
  return options;
}

Status EventLog::ValidateTopicName(const std::string& name) { return ValidateName(name, "topic"); }
Status EventLog::ValidateConsumerName(const std::string& name) { return ValidateName(name, "consumer"); }
Status EventLog::ValidateGroupName(const std::string& name) { return ValidateName(name, "group"); }
Status EventLog::ValidateHeaderName(const std::string& name) {
  if (name.empty() || name.size() > 255)
    return InvalidArgument("a header name must be 1 to 255 bytes, got " + std::to_string(name.size()));
  for (char c : name) {
    if (c < 0x21 || c > 0x7E)
      return InvalidArgument("a header name may only contain printable ASCII without spaces (0x21-0x7E)");
  }
  return Status::Ok();
}

Result<std::unique_ptr<EventLog>> EventLog::Open(std::shared_ptr<kv::Store> store, EventLogOptions options) {
  if (!options.clock) options.clock = SystemClock;
  auto impl = std::make_unique<Impl>(std::move(store), std::move(options));
  if (Status s = impl->Recover(); !s.ok()) return s;
  impl->Start();
  return std::unique_ptr<EventLog>(new EventLog(std::move(impl)));
}

EventLog::EventLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLog::~EventLog() { Close(); }
void EventLog::Close() { impl_->Close(); }
const EventLogOptions& EventLog::options() const { return impl_->options_; }

Result<TopicInfo> EventLog::CreateTopic(const std::string& name, const TopicSettings& settings) {
  return impl_->CreateTopic(name, settings);
}
Status EventLog::DeleteTopic(const std::string& name) { return impl_->DeleteTopic(name); }
Result<TopicInfo> EventLog::DescribeTopic(const std::string& name) const {
  auto topic = impl_->FindTopic(name);
  if (!topic.ok()) return topic.status();
  return impl_->Describe(*topic);
}
std::vector<TopicInfo> EventLog::ListTopics() const {
  std::vector<TopicInfo> topics;
  for (const TopicPtr& topic : impl_->registry_.All()) {
    if (auto info = impl_->Describe(topic); info.ok()) topics.push_back(std::move(info).value());
  }
  return topics;
}

std::vector<TopicInfo> EventLog::ListTopicsLive() const {
  std::vector<TopicInfo> topics;
  for (const TopicPtr& topic : impl_->registry_.All()) topics.push_back(impl_->DescribeLive(topic));
  return topics;
}

void EventLog::AppendAsync(AppendRequest request, AppendCallback done, CommitOn where) {
  impl_->AppendAsync(std::move(request), std::move(done), where);
}
AppendOutcome EventLog::Append(AppendRequest request) {
  return impl_->Append(std::move(request));
}

void EventLog::AppendMultiAsync(MultiAppendRequest request, MultiAppendCallback done, CommitOn where) {
  impl_->AppendMultiAsync(std::move(request), std::move(done), where);
}
MultiAppendOutcome EventLog::AppendMulti(MultiAppendRequest request) { return impl_->AppendMulti(std::move(request)); }

Result<ReadResult> EventLog::Read(const ReadRequest& request) const { return impl_->Read(request); }
Result<ReadResult> EventLog::ReadEach(const ReadRequest& request, const EventVisitor& visit) const {
  return impl_->ReadEach(request, visit);
}
Result<ResolvedPosition> EventLog::Resolve(const std::string& topic, const StartPosition& position) const {
  return impl_->Resolve(topic, position);
}

WaitId EventLog::WaitForOffset(const std::string& name, std::uint64_t offset, std::function<void()> wake) {
  return impl_->WaitForOffset(name, offset, std::move(wake));
}

WaitId EventLog::Impl::WaitForOffset(const std::string& name, std::uint64_t offset, std::function<void()> wake) {
  TopicPtr topic = registry_.Find(name);
  if (!topic) return 0;
  auto ready = [&] {
    return topic->durable_head.load(std::memory_order_acquire) > offset ||
           topic->deleted.load(std::memory_order_acquire) || closed_.load(std::memory_order_acquire);
  };
  if (ready()) {
    wake();
    return 0;
  }
  const WaitId id = topic->waiters.Add(offset, std::move(wake));
  // The head may have moved between the check and the registration: look again, so that a
  // wake-up is never lost.
  if (ready()) {
    if (std::function<void()> still_waiting = topic->waiters.Take(id)) {
      still_waiting();
      return 0;
    }
  }
  return id;
}

bool EventLog::CancelWait(const std::string& name, WaitId id) {
  TopicPtr topic = impl_->registry_.Find(name);
  return topic && id != 0 && topic->waiters.Cancel(id);
}

bool EventLog::WaitForOffset(const std::string& topic, std::uint64_t offset, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  WaitId id = WaitForOffset(topic, offset, [promise] { promise->set_value(); });
  if (id != 0 && future.wait_for(timeout) != std::future_status::ready) CancelWait(topic, id);
  // The published head answers it; describing the topic would read the store for nothing.
  TopicPtr state = impl_->registry_.Find(topic);
  return state && state->durable_head.load(std::memory_order_acquire) > offset;
}

Result<std::optional<CursorInfo>> EventLog::GetCursor(const std::string& topic, const std::string& consumer) const {
  return impl_->GetCursor(topic, consumer);
}
Status EventLog::CommitCursor(const std::string& topic, const std::string& consumer, std::uint64_t offset,
                              CursorMove move) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  impl_->CommitCursorAsync(topic, consumer, offset, move, [&promise](const Status& s) { promise.set_value(s); });
  return future.get();
}
void EventLog::CommitCursorAsync(const std::string& topic, const std::string& consumer, std::uint64_t offset,
                                 CursorMove move, std::function<void(const Status&)> done) {
  impl_->CommitCursorAsync(topic, consumer, offset, move, std::move(done));
}
Result<std::vector<CursorInfo>> EventLog::ListCursors(const std::string& topic) const {
  return impl_->ListCursors(topic);
}
Status EventLog::DeleteCursor(const std::string& topic, const std::string& consumer) {
  return impl_->DeleteCursor(topic, consumer);
}
Status EventLog::EnforceRetention() { return impl_->EnforceRetention(); }

// ---- Impl: start, close, blocking commits (recovery is in recovery.cc) ----------------------

void EventLog::Impl::Start() {
  loop_ = std::make_unique<CommitLoop>(*store_, registry_, loop_state_, options_.sync,
                                       options_.max_commit_events, options_.clock, options_.writer,
                                       CommitMetrics::In(options_.metrics));
  retention_thread_ = std::thread([this] { RetentionThread(); });
  groups_->Start();
}

void EventLog::Impl::Close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard lock(retention_mutex_);
      closing_ = true;
      retention_wake_.notify_all();
    }
    if (retention_thread_.joinable()) retention_thread_.join();
    if (groups_) groups_->Stop();  // ends the members; their last writes are queued before the loop stops
    if (loop_) loop_->Stop();
    closed_.store(true, std::memory_order_release);
    for (const TopicPtr& topic : registry_.All()) topic->waiters.FireAll();
    (void)store_->Flush();
  });
}

Status EventLog::Impl::CommitAndWait(std::function<Status(CommitContext&)> stage) {
  return SubmitAndWait({.events = 0, .stage = std::move(stage)});
}

Status EventLog::Impl::SubmitAndWait(CommitJob job) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  job.finish = [&promise](const Status& s) { promise.set_value(s); };
  loop_->Submit(std::move(job));
  return future.get();
}

void EventLog::Impl::Commit(std::function<Status(CommitContext&)> stage, std::function<void(const Status&)> done) {
  loop_->Submit({.events = 0, .stage = std::move(stage), .finish = std::move(done)});
}

}  // namespace goethe
