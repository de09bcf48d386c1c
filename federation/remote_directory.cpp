#include "federation/remote_directory.h"

#include "federation/url_path.h"

namespace haven::federation {

namespace {

constexpr size_t kMaxDirectoryAnswerBytes = 4 << 20;

std::string query_string(const rooms::PublicRoomsQuery& query) {
  std::string out = "limit=" + std::to_string(query.limit);
  if (query.since) out += "&since=" + encode_path_segment(*query.since);
  if (query.include_all_networks) out += "&include_all_networks=true";
  if (query.third_party_instance_id) {
    out += "&third_party_instance_id=" + encode_path_segment(*query.third_party_instance_id);
  }
  return out;
}

// The other server's error as this server's answer: its own refusals and "bad request"
// verdicts (such as a stale since token) pass through, anything else is a bad gateway.
Error remote_error(const std::string& server, const OutboundResponse& r) {
  auto body = json::parse_object(r.body);
  std::string errcode = body.ok() ? json::get_string(*body, "errcode", "M_UNKNOWN") : "M_UNKNOWN";
  std::string message = body.ok() ? json::get_string(*body, "error") : "";
  bool passes = r.status == 400 || r.status == 403 || r.status == 404;
  return Error::with(
      passes ? r.status : 502, passes ? errcode : "M_UNKNOWN",
      server + " answered " + std::to_string(r.status) + (message.empty() ? "" : ": " + message));
}

}  // namespace

void RemoteDirectory::public_rooms(const std::string& server, const rooms::PublicRoomsQuery& query,
                                   bool with_filter,
                                   std::function<void(Result<json::Document>)> done) {
  OutboundRequest request;
  request.destination = server;
  request.max_response_bytes = kMaxDirectoryAnswerBytes;
  if (with_filter) {
    request.method = "POST";
    request.target = "/_matrix/federation/v1/publicRooms";
    request.json_body = json::to_string(rooms::public_rooms_body(query));
  } else {
    request.target = "/_matrix/federation/v1/publicRooms?" + query_string(query);
  }
  client_.send(
      std::move(request), [this, server, done = std::move(done)](Result<OutboundResponse> r) {
        if (!r.ok()) return done(std::move(r).error());
        if (r->status != 200) return done(remote_error(server, *r));
        auto body = json::parse_object(r->body, config_.max_json_depth);
        if (!body.ok() || !body->HasMember("chunk") || !(*body)["chunk"].IsArray()) {
          return done(Error::with(502, "M_UNKNOWN", server + " sent a malformed room directory"));
        }
        done(std::move(*body));
      });
}

}  // namespace haven::federation
