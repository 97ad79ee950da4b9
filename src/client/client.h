// The client library (src/client/, for any front end: the command line today): the saved login,
// and a small synchronous HTTP/1.1 client (Boost.Beast) that makes one connection a request.
// http:// URLs only; put a TLS-terminating proxy in front for remote use. Transport failures are
// Unavailable; any HTTP status is a result for the caller to judge (ErrorLine words a failure).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace openlab::client {

struct Credentials {
  std::string url;    // e.g. "http://127.0.0.1:8080"
  std::string token;  // API token, "" if none
};

// Where `openlab login` saves credentials: $OPENLAB_CONFIG, else
// $XDG_CONFIG_HOME/openlab/credentials.json, else ~/.config/openlab/credentials.json.
std::string CredentialsPath();
// OPENLAB_URL / OPENLAB_TOKEN override the saved login; the default URL is
// http://127.0.0.1:8080.
Credentials LoadCredentials();
Status SaveCredentials(const Credentials& c);  // mode 0600
Status RemoveCredentials();

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class Client {
 public:
  explicit Client(Credentials creds) : creds_(std::move(creds)) {}
  // Sends one request. `extra` headers are added as given (a Content-Type there replaces the
  // default application/json of a body). Transport failures are Unavailable.
  StatusOr<HttpResult> Call(const std::string& method, const std::string& path,
                            const std::optional<std::string>& json_body = std::nullopt,
                            const std::vector<std::pair<std::string, std::string>>& extra = {});
  const Credentials& credentials() const { return creds_; }

 private:
  Credentials creds_;
};

// Turns a problem+json (or any non-2xx) reply into a one-line message.
std::string ErrorLine(const HttpResult& r);

}  // namespace openlab::client
