#include "tls_credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

namespace goethe::server {
namespace {

struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct KeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<BIO, BioFree> Source(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Never prompts on a terminal for an encrypted key's passphrase: such a key simply fails.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::unique_ptr<X509, X509Free> FirstCertificate(const std::string& pem) {
  auto bio = Source(pem);
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
}

void WarnIfOutsideValidity(X509* certificate, const std::string& path) {
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0)
    spdlog::warn("tls: the certificate in {} has expired: clients will refuse it", path);
  if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0)
    spdlog::warn("tls: the certificate in {} is not valid yet: clients will refuse it", path);
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(const Config& config) {
  const TlsConfig& tls = config.server.tls;
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  auto error = [&config](const char* key, const std::string& path, const std::string& what) {
    ERR_clear_error();
    return InvalidArgument(config.Where(key) + ": '" + path + "' " + what);
  };

  grpc::SslServerCredentialsOptions::PemKeyCertPair pair{ReadFile(tls.key_file), ReadFile(tls.cert_file)};
  std::unique_ptr<X509, X509Free> certificate = FirstCertificate(pair.cert_chain);
  if (!certificate) return error("server.tls.cert_file", tls.cert_file, "holds no PEM certificate");
  auto key_source = Source(pair.private_key);
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(key_source.get(), nullptr, NoPassphrase, nullptr));
  if (!key) return error("server.tls.key_file", tls.key_file, "holds no unencrypted PEM private key");
  if (X509_check_private_key(certificate.get(), key.get()) != 1)
    return error("server.tls.key_file", tls.key_file, "is not the private key of the certificate in " + tls.cert_file);
  WarnIfOutsideValidity(certificate.get(), tls.cert_file);

  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!tls.client_ca_file.empty()) {
    options.pem_root_certs = ReadFile(tls.client_ca_file);
    if (!FirstCertificate(options.pem_root_certs))
      return error("server.tls.client_ca_file", tls.client_ca_file, "holds no PEM certificate");
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

}  // namespace goethe::server
