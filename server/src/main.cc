// goethe-server: loads the config, opens the configured store through its plugin, opens the event
// log on it and serves the Goethe API until SIGTERM or SIGINT, then shuts down in order: streams
// closed, in-flight calls finished, storage closed.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "goethe/cluster/coordinator.h"
#include "goethe/cluster/replicator.h"
#include "goethe/engine/config.h"
#include "goethe/engine/event_log.h"
#include "goethe/engine/plugin_loader.h"
#include "access_policy.h"
#include "cluster_metrics.h"
#include "exposure_warning.h"
#include "goethe_service.h"
#include "grpc_listener.h"
#include "health_reporter.h"
#include "http_listener.h"
#include "http_routes.h"
#include "logging.h"
#include "server_flags.h"
#include "server_metrics.h"
#include "termination_signals.h"
#include "tls_credentials.h"

namespace goethe::server {
namespace {

// How long in-flight calls get to finish at shutdown before gRPC cancels them.
constexpr std::chrono::seconds kShutdownGrace{10};
constexpr std::size_t kBlockingThreads = 4;
constexpr std::size_t kWakeThreads = 2;

int FailToStart(const std::string& why) {
  std::fprintf(stderr, "goethe-server: cannot start: %s\n", why.c_str());
  return 1;
}

int Serve(const ServerFlags& flags) {
  const std::int64_t started_unix_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count();
  Result<Config> config = LoadConfig(flags.config_path);
  if (!config.ok()) return FailToStart(config.status().message());
  if (flags.log_level) config->server.log_level = *flags.log_level;
  const std::string listen_in_file = config->server.listen;
  if (flags.listen) config->server.listen = *flags.listen;
  SetUpLogging(config->server.log_level);
  // Certificates first: a bad one stops the server before the store is opened.
  Result<std::shared_ptr<grpc::ServerCredentials>> credentials = ListenerCredentials(*config);
  if (!credentials.ok()) return FailToStart(credentials.status().message());
  const AccessPolicy access(config->server.auth);
  WarnAboutExposure(config->server);

  Result<BackendPlugin> plugin = BackendPlugin::Load(*config);
  if (!plugin.ok()) return FailToStart(plugin.status().message());
  Result<std::shared_ptr<kv::Store>> store = plugin->Open(*config);
  if (!store.ok()) return FailToStart(store.status().message());
  // In a cluster, every commit goes through the replicator (replication.h), which reads its own
  // state from the store first.
  HealthReporter health_reporter;
  std::unique_ptr<cluster::Coordinator> coordinator;
  std::unique_ptr<cluster::Replicator> replicator;
  EventLogOptions log_options = EventLogOptions::FromConfig(*config);
  metrics::Registry registry;  // the commit loop's and the server's metrics (HTTP /metrics)
  log_options.metrics = &registry;
  if (config->cluster.enabled) {
    // --listen moves the advertised address with it when the config did not set one apart.
    if (flags.listen && config->cluster.advertise == listen_in_file) config->cluster.advertise = *flags.listen;
    if (config->cluster.advertise.ends_with(":0"))
      return FailToStart("cluster.advertise is " + config->cluster.advertise +
                         ": a cluster node needs a fixed port that others can reach; set server.listen or "
                         "cluster.advertise to one");
    coordinator = cluster::MakeEtcdCoordinator(
        config->cluster, cluster::NodeIdentity{config->cluster.node, config->cluster.advertise, GOETHE_VERSION});
    replicator = std::make_unique<cluster::Replicator>(
        *store, *coordinator,
        cluster::Replicator::Options{config->replication, config->storage.sync, config->cluster.node});
    if (Status loaded = replicator->Load(); !loaded.ok())
      return FailToStart(config->storage.path + ": replication state: " + loaded.message());
    coordinator->SetInSyncIdentity(replicator->replica());
    log_options.writer = replicator.get();
  }
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(*store, log_options);
  if (!opened.ok()) return FailToStart(config->storage.path + ": " + opened.status().message());
  EventLog& log = **opened;

  // In a cluster: join it before serving, so that a node that cannot reach etcd never serves.
  if (coordinator) {
    coordinator->ReportProgress([&replicator] { return replicator->applied_index(); });
    coordinator->SetCampaignGate([&replicator](const cluster::ClusterView& view) { return replicator->MayLead(view); });
    health_reporter.Follow(coordinator.get());
    if (Status joined = coordinator->Start(TerminationSignalPending); !joined.ok()) {
      log.Close();
      if (TerminationSignalPending()) return 0;
      return FailToStart("cluster " + config->cluster.name + ": " + joined.message());
    }
  }

  WorkPool blocking_pool("goethe-blocking", kBlockingThreads);
  WorkPool wake_pool("goethe-wake", kWakeThreads);
  StreamRegistry streams(config->server.max_concurrent_streams);
  ServiceContext context;
  context.log = &log;
  context.produce_limits.max_events_per_produce = config->server.max_events_per_produce;
  context.produce_limits.max_event_bytes = config->engine.max_event_bytes;
  context.produce_limits.auto_create_topics = config->server.auto_create_topics;
  context.max_consume_window = config->server.max_consume_window;
  context.blocking_pool = &blocking_pool;
  context.wake_pool = &wake_pool;
  context.streams = &streams;
  context.access = &access;
  context.cluster = coordinator.get();
  ServerMetrics server_metrics(registry);
  std::error_code ec;
  const std::filesystem::path data_path = std::filesystem::absolute(config->storage.path, ec);
  server_metrics.CollectAtScrape(log, data_path.string(), streams);
  if (coordinator) CollectClusterAtScrape(registry, *coordinator);
  context.metrics = &server_metrics;
  context.facts.backend = config->storage.backend;
  context.facts.sync = config->storage.sync;
  context.facts.data_path = data_path.string();
  context.facts.started_unix_nanos = started_unix_nanos;
  NodeAddress node_address;
  node_address.Set(config->cluster.enabled ? config->cluster.advertise : config->server.listen);
  context.node_address = &node_address;
  GoetheService service(context);

  InterceptorFactories interceptors;
  interceptors.push_back(server_metrics.InterceptorFactory());
  Result<Listener> listener = StartListener(config->server.listen, *credentials, &service, config->engine.max_event_bytes,
                                            replicator ? replicator->service() : nullptr, std::move(interceptors));
  if (!listener.ok()) {
    if (coordinator) coordinator->Stop();
    log.Close();
    return FailToStart(listener.status().message());
  }
  std::unique_ptr<HttpApi> http_api;
  std::unique_ptr<ConsoleFiles> console;
  std::unique_ptr<HttpListener> http;
  if (config->server.http.enabled()) {
    grpc::ChannelArguments in_process;
    in_process.SetMaxReceiveMessageSize(-1);
    http_api = std::make_unique<HttpApi>(listener->server->InProcessChannel(in_process));
    std::string looked_in;
    std::string console_dir = ConsoleFiles::Locate(config->server.http.console_dir, &looked_in);
    const std::string no_console = "the web console's files are not in " + looked_in + " (server.http.console_dir)";
    if (console_dir.empty()) spdlog::warn("{}: / answers 404", no_console);
    console = std::make_unique<ConsoleFiles>(std::move(console_dir), no_console);
    HttpRoutesContext routes{&access, http_api.get(), config->server.http.open_metrics,
                             [&registry] { return registry.Render(); },
                             [&health_reporter] { return health_reporter.Serving(); }, console.get()};
    Result<std::unique_ptr<HttpListener>> started =
        HttpListener::Start(config->server.http, config->server.tls, MakeHttpRoutes(std::move(routes)));
    if (!started.ok()) {
      listener->server->Shutdown();
      if (coordinator) coordinator->Stop();
      log.Close();
      return FailToStart(started.status().message());
    }
    http = std::move(started).value();
  }
  if (!config->cluster.enabled) node_address.Set(listener->address);  // the port the kernel picked, if 0
  if (replicator) replicator->Start(&log, [&streams] { streams.CloseOpen(); });
  health_reporter.Attach(listener->server->GetHealthCheckService());
  MarkServing();

  spdlog::info("goethe-server {} serving backend={} path={} sync={} plugin={} listen={} tls={} auth={} cluster={}",
               GOETHE_VERSION, config->storage.backend, data_path.string(), config->storage.sync, plugin->file(),
               listener->address,
               !config->server.tls.enabled() ? "off" : config->server.tls.client_ca_file.empty() ? "on" : "mtls",
               access.enabled() ? std::to_string(access.token_count()) + " tokens" : "off",
               config->cluster.enabled ? config->cluster.name + "/" + config->cluster.node : "off");
  std::printf("goethe-server listening on %s\n", listener->address.c_str());
  if (http) {
    const std::string& at = config->server.http.listen;
    std::printf("goethe-server http listening on %s:%d\n", at.substr(0, at.rfind(':')).c_str(), http->port());
  }
  std::fflush(stdout);

  const int signal = WaitForTerminationSignal();
  spdlog::info("{} received: shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  // In a cluster: the followers that hold everything join the in-sync set, so that one can lead
  // next; then the leadership is given up, and a successor is elected while calls finish here.
  if (replicator) replicator->HandOver(std::chrono::seconds(1));
  if (coordinator) coordinator->BeginStop();
  if (replicator) replicator->Stop();  // writes still in flight fail: no longer the leader
  health_reporter.Shutdown();
  if (http) http->Stop();  // its API calls in flight finish first: they are gRPC calls
  service.BeginShutdown();
  listener->server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  spdlog::debug("shutdown: every call has finished");
  // Every call is done; what they queued (cursor commits) runs to the end before storage closes.
  blocking_pool.Stop();
  wake_pool.Stop();
  spdlog::debug("shutdown: worker pools drained");
  if (coordinator) coordinator->Stop();  // leaves the membership
  log.Close();
  spdlog::info("goethe-server stopped");
  return 0;
}

}  // namespace
}  // namespace goethe::server

int main(int argc, char** argv) {
  goethe::server::BlockTerminationSignals();
  int exit_code = 0;
  std::optional<goethe::server::ServerFlags> flags = goethe::server::ParseServerFlags(argc, argv, &exit_code);
  if (!flags) return exit_code;
  return goethe::server::Serve(*flags);
}
