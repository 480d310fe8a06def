// goethe-bench: load against a running goethe-server.
//   goethe-bench [--server ADDR[,ADDR...]] produce-stream|produce-unary|round-trip|consume|group|group-live|
//                group-redelivery|tail-fanout|e2e
//                [options]
// Readable figures go to stderr (with a progress line during long runs); one RESULT line per
// measurement goes to stdout for scripts. With several servers (a cluster's nodes) it runs against
// the leader; only produce-unary and round-trip follow it across a failover.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "client_channel.h"
#include "leader_router.h"
#include "load_runs.h"

int main(int argc, char** argv) {
  using namespace goethe::load;
  CLI::App app{"goethe-bench: load against a running goethe-server"};
  app.footer(
      "With several servers (a cluster's nodes, comma-separated) the bench finds the leader through "
      "ClusterStatus and runs against it. At a failover produce-unary (each event sent with an idempotency "
      "key) and round-trip follow the new leader and send the call again; every other workload ends with its "
      "error and a line saying that a failover ended it.");
  app.require_subcommand(1);
  std::string server = "127.0.0.1:50051";
  LoadOptions options;
  app.add_option("--server", server, "server address, or a cluster's nodes as a comma-separated list")
      ->capture_default_str();
  app.add_option("--failover-timeout", options.failover_seconds,
                 "with several servers: seconds produce-unary keeps looking for a leader for one call")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  goethe::client::SecurityFlags security;
  goethe::client::AddSecurityFlags(app, &security);
  app.add_option("--topic", options.topic, "topic to use")->capture_default_str();
  app.add_option("--payload-bytes", options.payload_bytes, "bytes per event")->capture_default_str();
  app.add_flag("--random-payloads", options.random_payloads,
               "incompressible random payloads instead of repeated 'x' bytes");

  auto* stream = app.add_subcommand("produce-stream", "ProduceStream throughput");
  stream->add_option("--events", options.events)->capture_default_str();
  stream->add_option("--batch", options.batch, "events per batch")->capture_default_str()->check(CLI::Range(1u, 100000u));
  stream->add_option("--in-flight", options.in_flight, "unacknowledged batches")->capture_default_str()->check(CLI::Range(1u, 100000u));
  stream->add_option("--topics", options.topics,
                     "topics written round-robin, a batch to each in turn (--topic with -0, -1, ... appended; 1: --topic itself)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  stream->add_option("--headers", options.headers,
                     "headers on every event, CloudEvents-like (type, content-type, a correlation id, ...); "
                     "0 sends plain payloads")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));

  auto* unary = app.add_subcommand("produce-unary", "unary Produce, one event per call");
  unary->add_option("--events", options.events)->capture_default_str();
  unary->add_option("--concurrency", options.concurrency, "calls in flight")->capture_default_str()->check(CLI::Range(1u, 4096u));

  auto* round_trip = app.add_subcommand(
      "round-trip", "unary DescribeTopic calls: a gRPC round trip with no storage work, the floor under produce-unary");
  round_trip->add_option("--calls", options.events)->capture_default_str();
  round_trip->add_option("--concurrency", options.concurrency, "calls in flight")->capture_default_str()->check(CLI::Range(1u, 4096u));

  auto* consume = app.add_subcommand("consume", "Consume catch-up with the cursor kept by the server");
  consume->add_option("--events", options.events)->capture_default_str();
  consume->add_option("--consumer", options.consumer)->capture_default_str();
  consume->add_option("--window", options.window)->capture_default_str();

  auto* group = app.add_subcommand("group", "a fresh consumer group of --members catches up --events, acking each");
  group->add_option("--events", options.events)->capture_default_str();
  group->add_option("--members", options.members)->capture_default_str()->check(CLI::Range(1u, 256u));
  group->add_option("--window", options.window, "events in flight per member")->capture_default_str();
  auto* group_live = app.add_subcommand("group-live", "a consumer group of --members tails a topic written at --rate");
  group_live->add_option("--members", options.members)->capture_default_str()->check(CLI::Range(1u, 256u));
  group_live->add_option("--rate", options.rate, "events per second")->capture_default_str()->check(CLI::PositiveNumber);
  group_live->add_option("--seconds", options.seconds)->capture_default_str()->check(CLI::PositiveNumber);
  group_live->add_option("--window", options.window, "events in flight per member")->capture_default_str();
  auto* redelivery = app.add_subcommand("group-redelivery", "time from a nack to the event's redelivery");
  redelivery->add_option("--events", options.events, "nacks to time")->capture_default_str();

  auto* fanout = app.add_subcommand("tail-fanout", "latency to N read-only consumers tailing one topic written at --rate");
  fanout->add_option("--consumers", options.consumers)->capture_default_str()->check(CLI::Range(1u, 100000u));
  fanout->add_option("--rate", options.rate, "events per second")->capture_default_str()->check(CLI::PositiveNumber);
  fanout->add_option("--seconds", options.seconds)->capture_default_str()->check(CLI::PositiveNumber);
  fanout->add_option("--connections", options.connections, "connections the consumers' streams are spread over")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  fanout->add_option("--window", options.window)->capture_default_str();
  fanout->add_option("--client", options.fanout_client,
                     "grpc: the streams as gRPC callback reactors; h2: raw HTTP/2 streams on one thread (nghttp2), "
                     "a client that costs a fraction of gRPC's per message (plaintext only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"grpc", "h2"}));

  auto* e2e = app.add_subcommand("e2e", "live-tail latency at a fixed rate");
  e2e->add_option("--rate", options.rate, "events per second")->capture_default_str()->check(CLI::PositiveNumber);
  e2e->add_option("--seconds", options.seconds)->capture_default_str()->check(CLI::PositiveNumber);
  e2e->add_option("--window", options.window)->capture_default_str();
  e2e->add_option("--producer", options.e2e_producer,
                  "stream: one open ProduceStream, each event acknowledged before the next is sent; "
                  "unary: one Produce call per event")
      ->capture_default_str()
      ->check(CLI::IsMember({"stream", "unary"}));
  e2e->add_option("--consume-server", options.consume_server,
                  "the node the consumer tails (a follower, say); default: the producer's server (the leader)");

  CLI11_PARSE(app, argc, argv);
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  std::vector<std::string> servers = goethe::client::SplitServers(server);
  std::string error = servers.empty() ? "--server: no address given" : "";
  if (error.empty()) (void)goethe::client::Connect(servers.front(), security, arguments, &error);  // sets it on failure
  if (!error.empty()) {
    std::fprintf(stderr, "goethe-bench: %s\n", error.c_str());
    return 2;
  }
  goethe::client::LeaderRouter router(std::move(servers), [&](const std::string& address) {
    std::string ignored;  // the same flags as the check above: no error
    return goethe::client::Connect(address, security, arguments, &ignored);
  });
  if (!router.FindLeader()) {
    std::fprintf(stderr, "goethe-bench: none of the servers answered ClusterStatus (%s)\n", server.c_str());
    return 1;
  }
  const goethe::client::Route leader = router.Current();
  Stub& stub = *leader.stub;
  // A connection per stub: a distinct channel argument keeps gRPC from sharing one.
  int connections = 0;
  const StubFactory connect = [&]() -> std::unique_ptr<Stub> {
    grpc::ChannelArguments own = arguments;
    own.SetInt("goethe.bench.connection", ++connections);
    std::string ignored;
    return goethe::v1::Goethe::NewStub(goethe::client::Connect(leader.address, security, own, &ignored));
  };
  int code = 0;
  if (group->parsed()) code = RunGroup(connect, options);
  else if (group_live->parsed()) code = RunGroupLive(connect, options);
  else if (redelivery->parsed()) code = RunGroupRedelivery(stub, options);
  else if (fanout->parsed()) {
    TailTarget target{leader.address, ""};
    if (options.fanout_client == "h2" && goethe::client::WantsTls(security)) {
      std::fprintf(stderr, "goethe-bench: tail-fanout --client h2 speaks plaintext HTTP/2 only; drop the TLS flags\n");
      return 2;
    }
    if (!goethe::client::ChooseToken(security, &target.token, &error)) {
      std::fprintf(stderr, "goethe-bench: %s\n", error.c_str());
      return 2;
    }
    code = RunTailFanout(connect, target, options);
  }
  else if (stream->parsed()) code = RunProduceStream(stub, options);
  else if (unary->parsed()) return RunProduceUnary(router, options);
  else if (round_trip->parsed()) {
    options.round_trip_only = true;
    return RunProduceUnary(router, options);
  } else if (consume->parsed()) code = RunConsume(stub, options);
  else if (options.consume_server.empty()) code = RunEndToEnd(stub, stub, options);
  else {
    std::string ignored;  // a bad address fails the subscribe, which says so
    auto consume_stub =
        goethe::v1::Goethe::NewStub(goethe::client::Connect(options.consume_server, security, arguments, &ignored));
    code = RunEndToEnd(stub, *consume_stub, options);
  }
  // A workload that failed in a cluster: say so when its server no longer leads (a failover).
  if (code != 0 && router.routing() && router.FindLeader() && router.Current().address != leader.address) {
    std::fprintf(stderr, "goethe-bench: %s is no longer the leader: a failover ended the run (only produce-unary "
                 "and round-trip follow one)\n", leader.address.c_str());
  }
  return code;
}
