// TestPki: certificates made for one test with Debian's openssl command (package openssl), in the
// test's temp dir: a CA, a server certificate for IP:127.0.0.1 and DNS:localhost, a client
// certificate, and an unrelated CA with a client certificate of its own for the negative cases.
// EC P-256 keys, valid for two days: quick to make.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace goethe::testing {

inline const char* OpensslBinary() { return "/usr/bin/openssl"; }

class TestPki {
 public:
  explicit TestPki(const TempDir& dir) : dir_(dir) {
    openssl_config_ = dir_.WriteFile("pki.cnf", R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)");
    MakeCa("ca", "Goethe Test CA");
    MakeLeaf("server", "ca", "localhost", "server_ext");
    MakeLeaf("client", "ca", "goethe-test-client", "client_ext");
    MakeCa("other-ca", "Unrelated Test CA");
    MakeLeaf("other-client", "other-ca", "stranger", "client_ext");
  }

  // PEM file paths: NAME.pem (certificate) and NAME.key (private key), NAME among ca, server,
  // client, other-ca, other-client.
  std::string Cert(const std::string& name) const { return dir_.Sub(name + ".pem"); }
  std::string Key(const std::string& name) const { return dir_.Sub(name + ".key"); }
  std::string Pem(const std::string& name) const { return ReadWholeFile(Cert(name)); }
  std::string KeyPem(const std::string& name) const { return ReadWholeFile(Key(name)); }

 private:
  void Run(const std::vector<std::string>& args) {
    const CommandResult result = RunCommand(dir_, OpensslBinary(), args, "", std::chrono::seconds(30));
    if (result.exit_code != 0)
      throw std::runtime_error("openssl " + args[0] + " failed (is Debian's openssl package installed?): " +
                               result.err);
  }

  std::vector<std::string> NewKey(const std::string& name) {
    return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", Key(name)};
  }

  void MakeCa(const std::string& name, const std::string& common_name) {
    std::vector<std::string> args = {"req", "-x509", "-config", openssl_config_, "-extensions", "ca_ext",
                                     "-subj", "/CN=" + common_name, "-days", "2", "-out", Cert(name)};
    for (const std::string& arg : NewKey(name)) args.push_back(arg);
    Run(args);
  }

  void MakeLeaf(const std::string& name, const std::string& ca, const std::string& common_name,
                const std::string& extensions) {
    const std::string request = dir_.Sub(name + ".csr");
    std::vector<std::string> args = {"req", "-new", "-config", openssl_config_, "-subj", "/CN=" + common_name,
                                     "-out", request};
    for (const std::string& arg : NewKey(name)) args.push_back(arg);
    Run(args);
    Run({"x509", "-req", "-in", request, "-CA", Cert(ca), "-CAkey", Key(ca), "-set_serial",
         std::to_string(++serial_), "-days", "2", "-extfile", openssl_config_, "-extensions", extensions, "-out",
         Cert(name)});
  }

  const TempDir& dir_;
  std::string openssl_config_;
  int serial_ = 1;
};

}  // namespace goethe::testing
