// Dispatch of the EDUs in inbound transactions (/send) by their edu_type: each kind's handler
// is registered once at start-up (main wires the ones that live above federation/); EDUs of a
// type nobody handles are ignored, as the spec allows. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "homeserver/base/json.h"

namespace haven::federation {

class EduHandlers {
 public:
  // `origin`: the server that sent the transaction (authenticated); `content`: the EDU's
  // content, an object. A handler checks what it needs (e.g. that users are the origin's) and
  // drops what it cannot use: EDUs get no answer.
  using Handler = std::function<void(const std::string& origin, const json::Value& content)>;

  // Registers (or replaces) the handler of `edu_type`.
  void add(std::string edu_type, Handler handler) { handlers_[std::move(edu_type)] = std::move(handler); }

  // Runs the handler of `edu_type`; false when there is none (or `content` is not an object).
  bool dispatch(const std::string& origin, const std::string& edu_type,
                const json::Value& content) const {
    auto it = handlers_.find(edu_type);
    if (it == handlers_.end() || !content.IsObject()) return false;
    it->second(origin, content);
    return true;
  }

 private:
  std::map<std::string, Handler, std::less<>> handlers_;
};

}  // namespace haven::federation
