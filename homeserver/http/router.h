// Maps (method, path) to handlers through path templates like
// "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}". Built at start-up, then
// read-only: lookups from the loop thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/http/exchange.h"

namespace haven::http {

using Handler = std::function<void(const ExchangePtr&)>;

class Router {
 public:
  // `path_template` segments in braces match one non-empty path segment; a final "{+name}"
  // matches the rest of the path (several segments).
  void add(std::string method, std::string path_template, Handler handler);
  // Like add, for file uploads: the server bounds the body by its upload limit instead of the
  // JSON one and hands it over as a buffer (Exchange::take_body_buffer) without copying it.
  void add_upload(std::string method, std::string path_template, Handler handler);

  struct Match {
    const Handler* handler = nullptr;
    const std::string* path_template = nullptr;
    std::vector<std::string> params;  // percent-decoded
    bool path_known = false;          // some route has this path, maybe with another method
    bool upload = false;              // registered with add_upload
    std::vector<std::string> allowed_methods;
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<std::string> segments;
    Handler handler;
    bool upload = false;
  };
  std::vector<Route> routes_;
};

// Percent-decodes a path segment or query value; nullopt on malformed escapes.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace haven::http
