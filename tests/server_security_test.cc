// goethe-server's security, end to end on the real binary: TLS and mTLS on the listener with
// certificates made by the test (support/test_pki.h), bearer tokens with per-topic grants on every
// RPC and on each stream batch, goethe-cli's --token/--ca-file flags, start-up failures, and that
// no token ever reaches the log. Storage plays no part, so one backend (leveldb) is enough.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>

#include <cstdlib>

#include "access_policy.h"
#include "client_channel.h"
#include "exposure_warning.h"
#include "support/server_client.h"
#include "support/test_pki.h"

namespace goethe::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kProducerToken[] = "producer-token-0123456789";
constexpr char kConsumerToken[] = "consumer-token-0123456789";  // read from a token_file
constexpr char kAdminToken[] = "admin-token-0123456789abcdef";
constexpr char kUnknownToken[] = "unknown-token-0123456789";

// producer: produce on orders.*; consumer: consume on orders.* and audit; admin: admin on all.
std::string AuthYaml(const std::string& consumer_token_file) {
  return std::string("auth:\n"
                     "  tokens:\n"
                     "    - name: producer\n"
                     "      token: ") + kProducerToken + "\n"
         "      grants:\n"
         "        - permissions: [produce]\n"
         "          topics: \"orders.*\"\n"
         "    - name: consumer\n"
         "      token_file: " + consumer_token_file + "\n"
         "      grants:\n"
         "        - permissions: [consume]\n"
         "          topics: [\"orders.*\", audit]\n"
         "    - name: admin\n"
         "      token: " + kAdminToken + "\n"
         "      grants:\n"
         "        - permissions: [admin]\n"
         "          topics: \"*\"\n";
}

std::unique_ptr<grpc::ClientContext> WithHeader(const std::string& authorization) {
  std::unique_ptr<grpc::ClientContext> call = CallWithin(10s);
  call->AddMetadata("authorization", authorization);
  return call;
}

class SecurityTest : public ::testing::Test {
 protected:
  SecurityTest() : pki_(dir_) {}

  std::string Tls(bool mutual = false) const {
    std::string yaml = "tls:\n  cert_file: " + pki_.Cert("server") + "\n  key_file: " + pki_.Key("server") + "\n";
    if (mutual) yaml += "  client_ca_file: " + pki_.Cert("ca") + "\n";
    return yaml;
  }
  std::string Auth() const { return AuthYaml(dir_.WriteFile("consumer.token", std::string(kConsumerToken) + "\n")); }

  // Writes the config (`extra_server` goes into the server section) and starts the server.
  void Start(const std::string& extra_server, const std::string& log_level = "warn") {
    std::string yaml = ServerConfigYaml("leveldb", dir_.Sub("data"), /*sync=*/false, extra_server);
    yaml.replace(yaml.find("log_level: warn"), 15, "log_level: " + log_level);
    server_ = std::make_unique<ServerProcess>(dir_, dir_.WriteFile("goethe.yaml", yaml));
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->output();
    }
  }

  std::unique_ptr<v1::Goethe::Stub> StubWith(std::shared_ptr<grpc::ChannelCredentials> credentials,
                                             const std::string& name_override = "") {
    grpc::ChannelArguments arguments;
    if (!name_override.empty()) arguments.SetSslTargetNameOverride(name_override);
    return v1::Goethe::NewStub(grpc::CreateCustomChannel(server_->address(), credentials, arguments));
  }
  // TLS trusting `ca`, presenting `client`'s certificate when named.
  std::unique_ptr<v1::Goethe::Stub> TlsStub(const std::string& ca, const std::string& client = "",
                                            const std::string& name_override = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = pki_.Pem(ca);
    if (!client.empty()) {
      options.pem_cert_chain = pki_.Pem(client);
      options.pem_private_key = pki_.KeyPem(client);
    }
    return StubWith(grpc::SslCredentials(options), name_override);
  }
  // Plaintext, every call carrying `token` (none when empty): the clients' own channel code.
  std::unique_ptr<v1::Goethe::Stub> As(const std::string& token) {
    client::SecurityFlags flags;
    flags.token = token;
    std::string error;
    std::shared_ptr<grpc::Channel> channel = client::Connect(server_->address(), flags, {}, &error);
    EXPECT_NE(channel, nullptr) << error;
    return v1::Goethe::NewStub(channel);
  }

  static grpc::Status Produce(v1::Goethe::Stub& stub, const std::string& topic, const std::string& payload = "x",
                              std::unique_ptr<grpc::ClientContext> call = CallWithin(10s)) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    request.add_payloads(payload);
    v1::ProduceResponse response;
    return stub.Produce(call.get(), request, &response);
  }
  static grpc::Status Read(v1::Goethe::Stub& stub, const std::string& topic, v1::ReadResponse* response = nullptr) {
    v1::ReadRequest request;
    request.set_topic(topic);
    v1::ReadResponse ignored;
    return stub.Read(CallWithin(10s).get(), request, response != nullptr ? response : &ignored);
  }
  static std::vector<std::string> TopicNames(v1::Goethe::Stub& stub) {
    v1::ListTopicsResponse response;
    const grpc::Status status = stub.ListTopics(CallWithin(10s).get(), {}, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    std::vector<std::string> names;
    for (const v1::Topic& topic : response.topics()) names.push_back(topic.name());
    return names;
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_->address()});
    return RunCommand(dir_, CliBinary(), args, "", 30s);
  }

  TempDir dir_;
  TestPki pki_;
  std::unique_ptr<ServerProcess> server_;
};

void ExpectCode(const grpc::Status& status, grpc::StatusCode code, const std::string& message_part = "") {
  EXPECT_EQ(status.error_code(), code) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr(message_part));
}

// --- TLS --------------------------------------------------------------------------------------

TEST_F(SecurityTest, TlsClientTrustingTheCaIsServed) {
  Start(Tls());
  EXPECT_TRUE(Produce(*TlsStub("ca"), "orders").ok());  // the certificate's IP:127.0.0.1
  const grpc::Status by_name = Produce(*TlsStub("ca", "", "localhost"), "orders");  // its DNS:localhost
  EXPECT_TRUE(by_name.ok()) << Describe(by_name);
  // A client certificate is not asked for without client_ca_file, and does no harm.
  EXPECT_TRUE(Produce(*TlsStub("ca", "other-client"), "orders").ok());
}

TEST_F(SecurityTest, PlaintextClientCannotTalkToATlsServer) {
  Start(Tls());
  ExpectCode(Produce(*StubWith(grpc::InsecureChannelCredentials()), "orders"), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, ClientTrustingAnotherCaRefusesTheServer) {
  Start(Tls());
  ExpectCode(Produce(*TlsStub("other-ca"), "orders"), grpc::StatusCode::UNAVAILABLE);
  ExpectCode(Produce(*TlsStub("ca", "", "goethe.example"), "orders"), grpc::StatusCode::UNAVAILABLE);  // wrong name
}

TEST_F(SecurityTest, MutualTlsAcceptsOnlyClientCertificatesOfItsCa) {
  Start(Tls(/*mutual=*/true));
  ExpectCode(Produce(*TlsStub("ca"), "orders"), grpc::StatusCode::UNAVAILABLE);  // no client certificate
  ExpectCode(Produce(*TlsStub("ca", "other-client"), "orders"), grpc::StatusCode::UNAVAILABLE);
  const grpc::Status accepted = Produce(*TlsStub("ca", "client"), "orders");
  EXPECT_TRUE(accepted.ok()) << Describe(accepted);
}

// --- Tokens and grants ------------------------------------------------------------------------

TEST_F(SecurityTest, CallsWithoutAValidTokenAreUnauthenticated) {
  Start(Auth());
  auto anonymous = As("");
  ExpectCode(Produce(*anonymous, "orders.eu"), grpc::StatusCode::UNAUTHENTICATED, "authorization: Bearer <token>");
  v1::ListTopicsResponse topics;
  ExpectCode(anonymous->ListTopics(CallWithin(10s).get(), {}, &topics), grpc::StatusCode::UNAUTHENTICATED);
  ExpectCode(Produce(*anonymous, "orders.eu", "x", WithHeader(std::string("Basic ") + kAdminToken)),
             grpc::StatusCode::UNAUTHENTICATED, "malformed credentials");
  ExpectCode(Produce(*anonymous, "orders.eu", "x", WithHeader("Bearer ")), grpc::StatusCode::UNAUTHENTICATED);

  const grpc::Status unknown = Produce(*As(kUnknownToken), "orders.eu");
  ExpectCode(unknown, grpc::StatusCode::UNAUTHENTICATED, "not valid on this server");
  EXPECT_THAT(unknown.error_message(), Not(HasSubstr(kUnknownToken)));
  // The scheme is case-insensitive (RFC 6750).
  EXPECT_TRUE(Produce(*anonymous, "orders.eu", "x", WithHeader(std::string("bearer ") + kProducerToken)).ok());

  // Streams are refused before they start.
  ConsumeSession consume(*anonymous, SubscribeTo("orders.eu"), 20s);
  EXPECT_FALSE(consume.Subscribed(10s).has_value());
  ExpectCode(consume.Finish(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = anonymous->ProduceStream(&call);
  v1::ProduceStreamResponse ack;
  EXPECT_FALSE(stream->Read(&ack));
  ExpectCode(stream->Finish(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, ProduceGrantAllowsProducingToMatchingTopicsOnly) {
  Start(Auth());
  auto producer = As(kProducerToken);
  EXPECT_TRUE(Produce(*producer, "orders.eu").ok());      // creates the topic: produce is enough
  EXPECT_TRUE(Produce(*producer, "orders.eu.west").ok());  // * spans dots
  ExpectCode(Produce(*producer, "orders"), grpc::StatusCode::PERMISSION_DENIED,
             "token 'producer' has no produce permission on topic 'orders'");
  ExpectCode(Produce(*producer, "payments"), grpc::StatusCode::PERMISSION_DENIED);
  ExpectCode(Produce(*producer, "bad name!"), grpc::StatusCode::INVALID_ARGUMENT);  // named, not refused
  ExpectCode(Read(*producer, "orders.eu"), grpc::StatusCode::PERMISSION_DENIED,
             "token 'producer' has no consume permission on topic 'orders.eu'");
  v1::CreateTopicRequest create;
  create.set_topic("orders.new");
  v1::CreateTopicResponse created;
  ExpectCode(producer->CreateTopic(CallWithin(10s).get(), create, &created), grpc::StatusCode::PERMISSION_DENIED,
             "no admin permission on topic 'orders.new'");

  ConsumeSession consume(*producer, SubscribeTo("orders.eu"), 20s);
  EXPECT_FALSE(consume.Subscribed(10s).has_value());
  ExpectCode(consume.Finish(), grpc::StatusCode::PERMISSION_DENIED, "no consume permission on topic 'orders.eu'");
}

TEST_F(SecurityTest, ConsumeGrantCoversReadingAndCursorsButNotDeletingThem) {
  Start(Auth());
  ASSERT_TRUE(Produce(*As(kAdminToken), "orders.eu", "first").ok());
  ASSERT_TRUE(Produce(*As(kAdminToken), "payments", "secret").ok());
  auto consumer = As(kConsumerToken);

  v1::ReadResponse read;
  ASSERT_TRUE(Read(*consumer, "orders.eu", &read).ok());
  ASSERT_EQ(read.events_size(), 1);
  EXPECT_EQ(read.events(0).payload(), "first");
  v1::SeekRequest seek;
  seek.set_topic("orders.eu");
  v1::SeekResponse sought;
  EXPECT_TRUE(consumer->Seek(CallWithin(10s).get(), seek, &sought).ok());
  v1::CommitCursorRequest commit;
  commit.set_topic("orders.eu");
  commit.set_consumer("billing");
  commit.set_offset(0);
  v1::CommitCursorResponse committed;
  EXPECT_TRUE(consumer->CommitCursor(CallWithin(10s).get(), commit, &committed).ok());
  v1::GetCursorRequest get;
  get.set_topic("orders.eu");
  get.set_consumer("billing");
  v1::GetCursorResponse cursor;
  EXPECT_TRUE(consumer->GetCursor(CallWithin(10s).get(), get, &cursor).ok());
  v1::ListCursorsRequest list;
  list.set_topic("orders.eu");
  v1::ListCursorsResponse cursors;
  EXPECT_TRUE(consumer->ListCursors(CallWithin(10s).get(), list, &cursors).ok());
  v1::DescribeTopicRequest describe;
  describe.set_topic("orders.eu");
  v1::DescribeTopicResponse described;
  EXPECT_TRUE(consumer->DescribeTopic(CallWithin(10s).get(), describe, &described).ok());

  v1::DeleteCursorRequest remove;
  remove.set_topic("orders.eu");
  remove.set_consumer("billing");
  v1::DeleteCursorResponse removed;
  ExpectCode(consumer->DeleteCursor(CallWithin(10s).get(), remove, &removed), grpc::StatusCode::PERMISSION_DENIED,
             "no admin permission");
  ExpectCode(Produce(*consumer, "orders.eu"), grpc::StatusCode::PERMISSION_DENIED, "no produce permission");
  ExpectCode(Read(*consumer, "payments"), grpc::StatusCode::PERMISSION_DENIED);

  ConsumeSession allowed(*consumer, SubscribeTo("orders.eu", "billing"), 20s);
  ASSERT_TRUE(allowed.Subscribed(10s).has_value());
  std::optional<v1::Event> event = allowed.Next(10s);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->payload(), "first");
  EXPECT_TRUE(allowed.Close().ok());
  ConsumeSession refused(*consumer, SubscribeTo("payments"), 20s);
  ExpectCode(refused.Finish(), grpc::StatusCode::PERMISSION_DENIED, "no consume permission on topic 'payments'");
}

TEST_F(SecurityTest, AdminGrantAdministersAndImpliesProduceAndConsume) {
  Start(Auth());
  auto admin = As(kAdminToken);
  v1::CreateTopicRequest create;
  create.set_topic("payments");
  v1::CreateTopicResponse created;
  ASSERT_TRUE(admin->CreateTopic(CallWithin(10s).get(), create, &created).ok());
  ASSERT_TRUE(Produce(*admin, "payments").ok());
  ASSERT_TRUE(Read(*admin, "payments").ok());
  v1::CommitCursorRequest commit;
  commit.set_topic("payments");
  commit.set_consumer("ledger");
  v1::CommitCursorResponse committed;
  ASSERT_TRUE(admin->CommitCursor(CallWithin(10s).get(), commit, &committed).ok());
  v1::DeleteCursorRequest remove;
  remove.set_topic("payments");
  remove.set_consumer("ledger");
  v1::DeleteCursorResponse removed;
  EXPECT_TRUE(admin->DeleteCursor(CallWithin(10s).get(), remove, &removed).ok());
  v1::DeleteTopicRequest drop;
  drop.set_topic("payments");
  v1::DeleteTopicResponse dropped;
  EXPECT_TRUE(admin->DeleteTopic(CallWithin(10s).get(), drop, &dropped).ok());
}

TEST_F(SecurityTest, ListTopicsShowsOnlyTopicsTheTokenHoldsAPermissionOn) {
  Start(Auth());
  auto admin = As(kAdminToken);
  for (const char* topic : {"audit", "orders.eu", "payments"}) ASSERT_TRUE(Produce(*admin, topic).ok());
  EXPECT_THAT(TopicNames(*admin), ElementsAre("audit", "orders.eu", "payments"));
  EXPECT_THAT(TopicNames(*As(kProducerToken)), ElementsAre("orders.eu"));
  EXPECT_THAT(TopicNames(*As(kConsumerToken)), ElementsAre("audit", "orders.eu"));

  v1::DescribeTopicRequest describe;
  describe.set_topic("orders.eu");
  v1::DescribeTopicResponse described;
  EXPECT_TRUE(As(kProducerToken)->DescribeTopic(CallWithin(10s).get(), describe, &described).ok());
  describe.set_topic("payments");
  ExpectCode(As(kProducerToken)->DescribeTopic(CallWithin(10s).get(), describe, &described),
             grpc::StatusCode::PERMISSION_DENIED, "has no produce, consume or admin permission on topic 'payments'");
}

TEST_F(SecurityTest, ProduceStreamChecksEveryBatch) {
  Start(Auth());
  auto producer = As(kProducerToken);
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 20s);
  auto stream = producer->ProduceStream(&call);
  const std::vector<std::string> topics = {"orders.eu", "payments", "orders.us"};
  for (std::size_t i = 0; i < topics.size(); ++i) {
    v1::ProduceStreamRequest request;
    request.set_batch_id(i + 1);
    request.mutable_batch()->set_topic(topics[i]);
    request.mutable_batch()->add_payloads("event");
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  std::vector<v1::ProduceStreamResponse> acks(3);
  for (v1::ProduceStreamResponse& ack : acks) ASSERT_TRUE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(acks[0].has_result());
  ASSERT_TRUE(acks[1].has_error());
  EXPECT_EQ(acks[1].batch_id(), 2u);
  EXPECT_EQ(acks[1].error().code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(acks[1].error().message(), "token 'producer' has no produce permission on topic 'payments'");
  EXPECT_TRUE(acks[2].has_result());  // the stream goes on after a refused batch
}

TEST_F(SecurityTest, HealthChecksNeedNoToken) {
  Start(Auth());
  grpc::GenericStub generic(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::CompletionQueue queue;
  grpc::Slice empty("");  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto rpc = generic.PrepareUnaryCall(&call, "/grpc.health.v1.Health/Check", request, &queue);
  rpc->StartCall();
  int tag = 1;
  rpc->Finish(&response, &status, &tag);
  void* got = nullptr;
  bool ok = false;
  ASSERT_TRUE(queue.Next(&got, &ok));
  ASSERT_TRUE(status.ok()) << Describe(status);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
  queue.Shutdown();
  while (queue.Next(&got, &ok)) {
  }
}

// --- Logs -------------------------------------------------------------------------------------

TEST_F(SecurityTest, TokensNeverAppearInTheLogEvenAtDebugLevel) {
  Start(Tls() + Auth(), "debug");
  for (const char* token : {kProducerToken, kConsumerToken, kAdminToken, kUnknownToken}) {
    client::SecurityFlags flags;
    flags.token = token;
    flags.ca_file = pki_.Cert("ca");
    std::string error;
    auto stub = v1::Goethe::NewStub(client::Connect(server_->address(), flags, {}, &error));
    (void)Produce(*stub, "orders.eu");
    (void)Produce(*stub, "payments");
    (void)Read(*stub, "orders.eu");
    ConsumeSession consume(*stub, SubscribeTo("orders.eu"), 20s);
    consume.Subscribed(10s);
  }
  ASSERT_EQ(server_->Stop(), 0);
  const std::string log = server_->output();
  EXPECT_THAT(log, HasSubstr("auth: refused"));  // the log did record the refusals...
  EXPECT_THAT(log, HasSubstr("auth: denied: token 'consumer' has no produce permission on topic 'orders.eu'"));
  for (const char* token : {kProducerToken, kConsumerToken, kAdminToken, kUnknownToken})
    EXPECT_THAT(log, Not(HasSubstr(token))) << "...but never a token";  // nor a part of one
  EXPECT_THAT(log, Not(HasSubstr("0123456789")));
}

// --- goethe-cli -------------------------------------------------------------------------------

TEST_F(SecurityTest, CliTakesATokenAndACaFile) {
  Start(Tls() + Auth());
  const std::string producer = dir_.WriteFile("producer.token", std::string(kProducerToken) + "\n");
  const std::string ca = pki_.Cert("ca");
  CommandResult produced = Cli({"--ca-file", ca, "--token-file", producer, "produce", "orders.eu", "hello"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  const CommandResult denied = Cli({"--ca-file", ca, "--token", kProducerToken, "consume", "orders.eu"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, HasSubstr("error: PERMISSION_DENIED: token 'producer' has no consume permission on topic "
                                    "'orders.eu'"));

  setenv("GOETHE_TOKEN", kConsumerToken, 1);
  const CommandResult consumed = Cli({"--ca-file", ca, "consume", "orders.eu"});
  unsetenv("GOETHE_TOKEN");
  EXPECT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_THAT(consumed.out, HasSubstr("hello"));

  const CommandResult anonymous = Cli({"--ca-file", ca, "topics", "list"});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("error: UNAUTHENTICATED: missing credentials"));
  const CommandResult plaintext = Cli({"--token", kAdminToken, "topics", "list"});
  EXPECT_EQ(plaintext.exit_code, 1);
  EXPECT_THAT(plaintext.err, HasSubstr("error: UNAVAILABLE"));
  const CommandResult both = Cli({"--token", kAdminToken, "--token-file", producer, "topics", "list"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("give --token or --token-file, not both"));
}

TEST_F(SecurityTest, CliPresentsAClientCertificateForMutualTls) {
  Start(Tls(/*mutual=*/true));
  const std::string ca = pki_.Cert("ca");
  const CommandResult accepted =
      Cli({"--ca-file", ca, "--cert-file", pki_.Cert("client"), "--key-file", pki_.Key("client"), "topics", "list"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  const CommandResult refused = Cli({"--ca-file", ca, "topics", "list"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("error: UNAVAILABLE"));
  const CommandResult half = Cli({"--ca-file", ca, "--cert-file", pki_.Cert("client"), "topics", "list"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_THAT(half.err, HasSubstr("--cert-file and --key-file go together"));
}

// --- Start-up ---------------------------------------------------------------------------------

TEST_F(SecurityTest, BadCertificatesStopTheServerWithOneLine) {
  auto start = [this](const std::string& extra_server) {
    const std::string config =
        dir_.WriteFile("bad.yaml", ServerConfigYaml("leveldb", dir_.Sub("data"), false, extra_server));
    return RunCommand(dir_, ServerBinary(), {"--config", config, "--listen", "127.0.0.1:0"}, "", 30s);
  };
  const std::string garbage = dir_.WriteFile("garbage.pem", "not a certificate\n");
  CommandResult result = start("tls:\n  cert_file: " + garbage + "\n  key_file: " + pki_.Key("server") + "\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "goethe-server: cannot start: " + dir_.Sub("bad.yaml") + ":11: server.tls.cert_file: '" +
                            garbage + "' holds no PEM certificate\n");

  result = start("tls:\n  cert_file: " + pki_.Cert("server") + "\n  key_file: " + pki_.Key("client") + "\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "goethe-server: cannot start: " + dir_.Sub("bad.yaml") + ":12: server.tls.key_file: '" +
                            pki_.Key("client") + "' is not the private key of the certificate in " +
                            pki_.Cert("server") + "\n");

  result = start("tls:\n  cert_file: " + pki_.Cert("server") + "\n  key_file: " + pki_.Key("server") +
                 "\n  client_ca_file: " + garbage + "\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr(":13: server.tls.client_ca_file: '" + garbage + "' holds no PEM certificate"));

  result = start("auth:\n  tokens:\n    - {name: a, token: " + std::string(kAdminToken) +
                 ", grants: [{permissions: [write], topics: '*'}]}\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("bad.yaml:12: server.auth.tokens[0].grants[0].permissions: unknown permission "
                                    "'write' (known: produce, consume, admin)"));
  EXPECT_THAT(result.err, Not(HasSubstr(kAdminToken)));
}

// --- The policy itself, without a server ------------------------------------------------------

constexpr char kTestToken[] = "t-token-0123456789";

AuthConfig OneToken(std::uint8_t permissions, std::vector<std::string> topics) {
  AuthConfig auth;
  auth.enabled = true;
  auth.tokens.push_back({"t", kTestToken, {{permissions, std::move(topics)}}});
  return auth;
}

TEST(AccessPolicyTest, IdentifiesWholeTokensOnly) {
  const server::AccessPolicy policy(OneToken(Bit(Permission::kConsume), {"*"}));
  ASSERT_NE(policy.Identify(kTestToken), nullptr);
  EXPECT_EQ(policy.Identify(kTestToken)->name, "t");
  EXPECT_EQ(policy.Identify("t-token-012345678"), nullptr);
  EXPECT_EQ(policy.Identify("t-token-01234567890"), nullptr);
  EXPECT_EQ(policy.Identify(""), nullptr);
}

TEST(AccessPolicyTest, PatternsAreGlobsOverWholeTopicNames) {
  const server::AccessPolicy policy(OneToken(Bit(Permission::kConsume), {"orders.*", "log-?", "shard[0-3]"}));
  const server::Principal& caller = *policy.Identify(kTestToken);
  for (const char* yes : {"orders.eu", "orders.eu.west", "orders.", "log-a", "shard2"})
    EXPECT_TRUE(policy.Allows(caller, Permission::kConsume, yes)) << yes;
  for (const char* no : {"orders", "xorders.eu", "log-ab", "shard4", "shard"})
    EXPECT_FALSE(policy.Allows(caller, Permission::kConsume, no)) << no;
  EXPECT_FALSE(policy.Allows(caller, Permission::kProduce, "orders.eu"));
  EXPECT_TRUE(policy.MaySee(caller, "orders.eu"));
  EXPECT_FALSE(policy.MaySee(caller, "payments"));
}

TEST(AccessPolicyTest, AdminImpliesProduceAndConsume) {
  const server::AccessPolicy policy(OneToken(Bit(Permission::kAdmin), {"*"}));
  const server::Principal& caller = *policy.Identify(kTestToken);
  for (Permission p : {Permission::kProduce, Permission::kConsume, Permission::kAdmin})
    EXPECT_TRUE(policy.Check(caller, p, "anything").ok()) << static_cast<int>(p);
  EXPECT_EQ(policy.Check(caller, Permission::kProduce, "bad name!").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(AccessPolicyTest, WithoutAuthEverythingIsAllowed) {
  EXPECT_FALSE(server::AccessPolicy::Open().enabled());
  EXPECT_FALSE(server::AccessPolicy(AuthConfig{}).enabled());
}

TEST(ExposureWarningTest, KnowsLoopbackAddresses) {
  for (const char* local : {"127.0.0.1:50051", "127.1.2.3:1", "localhost:50051", "[::1]:50051", "unix:/tmp/g.sock"})
    EXPECT_TRUE(server::IsLocalOnly(local)) << local;
  for (const char* exposed : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", "example.org:50051"})
    EXPECT_FALSE(server::IsLocalOnly(exposed)) << exposed;
}

}  // namespace
}  // namespace goethe::testing
