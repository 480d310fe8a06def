#include "client_channel.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <grpcpp/support/client_interceptor.h>

namespace goethe::client {
namespace {

namespace exp = grpc::experimental;

// Adds the authorization header to every call's initial metadata.
class BearerInterceptor final : public exp::Interceptor {
 public:
  explicit BearerInterceptor(std::shared_ptr<const std::string> header) : header_(std::move(header)) {}
  void Intercept(exp::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(exp::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA))
      methods->GetSendInitialMetadata()->emplace("authorization", *header_);
    methods->Proceed();
  }

 private:
  std::shared_ptr<const std::string> header_;
};

class BearerInterceptorFactory final : public exp::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(const std::string& token)
      : header_(std::make_shared<const std::string>("Bearer " + token)) {}
  exp::Interceptor* CreateClientInterceptor(exp::ClientRpcInfo*) override { return new BearerInterceptor(header_); }

 private:
  std::shared_ptr<const std::string> header_;
};

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

std::string Trimmed(const std::string& text) {
  const char* space = " \t\r\n";
  const std::size_t begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const SecurityFlags& flags, std::string* error) {
  if (!WantsTls(flags)) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;  // empty roots: the system's trusted CAs
  const std::pair<const std::string&, std::string*> files[] = {{flags.ca_file, &options.pem_root_certs},
                                                              {flags.cert_file, &options.pem_cert_chain},
                                                              {flags.key_file, &options.pem_private_key}};
  for (const auto& [path, out] : files) {
    if (!path.empty() && !ReadFile(path, out)) {
      *error = "cannot read '" + path + "'";
      return nullptr;
    }
  }
  if (options.pem_cert_chain.empty() != options.pem_private_key.empty()) {
    *error = "--cert-file and --key-file go together";
    return nullptr;
  }
  return grpc::SslCredentials(options);
}

}  // namespace

bool WantsTls(const SecurityFlags& flags) {
  return flags.tls || !flags.ca_file.empty() || !flags.cert_file.empty() || !flags.key_file.empty();
}

bool ChooseToken(const SecurityFlags& flags, std::string* token, std::string* error) {
  if (!flags.token.empty() && !flags.token_file.empty()) {
    *error = "give --token or --token-file, not both";
    return false;
  }
  if (!flags.token_file.empty()) {
    std::string content;
    if (!ReadFile(flags.token_file, &content)) {
      *error = "--token-file: cannot read '" + flags.token_file + "'";
      return false;
    }
    *token = Trimmed(content);
    if (token->empty()) {
      *error = "--token-file: '" + flags.token_file + "' holds no token";
      return false;
    }
  } else if (!flags.token.empty()) {
    *token = flags.token;
  } else if (const char* env = std::getenv("GOETHE_TOKEN")) {
    *token = Trimmed(env);
  }
  for (char c : *token) {
    if (c < 0x21 || c > 0x7e) {
      *error = "the token may only hold printable ASCII characters without spaces";
      return false;
    }
  }
  return true;
}

void AddSecurityFlags(CLI::App& app, SecurityFlags* flags) {
  app.add_option("--token", flags->token,
                 "Bearer token sent with every call (a command line is visible to other users: prefer "
                 "--token-file or GOETHE_TOKEN)");
  app.add_option("--token-file", flags->token_file, "File holding the bearer token");
  app.add_option("--ca-file", flags->ca_file, "Use TLS, trusting the CA certificates in this PEM file");
  app.add_option("--cert-file", flags->cert_file, "Client certificate (PEM), for servers that require one (mTLS)");
  app.add_option("--key-file", flags->key_file, "Private key (PEM) of --cert-file");
  app.add_flag("--tls", flags->tls, "Use TLS, trusting the system's CAs (implied by --ca-file and --cert-file)");
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address, const SecurityFlags& flags,
                                       const grpc::ChannelArguments& arguments, std::string* error) {
  std::string token;
  if (!ChooseToken(flags, &token, error)) return nullptr;
  std::shared_ptr<grpc::ChannelCredentials> credentials = Credentials(flags, error);
  if (!credentials) return nullptr;
  if (token.empty()) return grpc::CreateCustomChannel(address, credentials, arguments);
  std::vector<std::unique_ptr<exp::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<BearerInterceptorFactory>(token));
  return exp::CreateCustomChannelWithInterceptors(address, credentials, arguments, std::move(interceptors));
}

}  // namespace goethe::client
