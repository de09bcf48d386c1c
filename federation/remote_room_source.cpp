#include "federation/remote_room_source.h"

#include "federation/url_path.h"
#include "homeserver/base/json.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxEventsResponseBytes = 16 << 20;

// The JSON object of a 200 answer, or the error to report.
Result<json::Document> answer_object(Result<OutboundResponse>& r, const std::string& what) {
  if (!r.ok()) return std::move(r).error();
  if (r->status != 200) {
    return Error::with(502, "M_UNKNOWN",
                       what + " answered HTTP " + std::to_string(r->status));
  }
  auto doc = json::parse_object(r->body);
  if (!doc.ok()) return Error::with(502, "M_UNKNOWN", what + " answered invalid JSON");
  return std::move(*doc);
}

// The members of array `key` of `doc` as JSON texts (objects) or strings.
std::vector<std::string> list_of(const json::Value& doc, const char* key, bool objects) {
  std::vector<std::string> out;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (objects && v.IsObject()) out.push_back(json::to_string(v));
    if (!objects && v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

json::Value id_array(const std::vector<std::string>& ids, json::Alloc& a) {
  json::Value out(rapidjson::kArrayType);
  for (const auto& id : ids) out.PushBack(json::str(id, a), a);
  return out;
}

}  // namespace

void FederationRoomSource::get_missing_events(const std::string& server,
                                              const std::string& room_id,
                                              const std::vector<std::string>& earliest,
                                              const std::vector<std::string>& latest, int limit,
                                              int64_t min_depth, EventsDone done) {
  auto body = json::object();
  auto& a = body.GetAllocator();
  json::set(body, "earliest_events", id_array(earliest, a), a);
  json::set(body, "latest_events", id_array(latest, a), a);
  json::set(body, "limit", limit, a);
  json::set(body, "min_depth", min_depth, a);
  OutboundRequest request;
  request.destination = server;
  request.method = "POST";
  request.target = "/_matrix/federation/v1/get_missing_events/" + encode_path_segment(room_id);
  request.json_body = json::to_string(body);
  request.max_response_bytes = kMaxEventsResponseBytes;
  client_.send(std::move(request), [done = std::move(done)](Result<OutboundResponse> r) {
    auto doc = answer_object(r, "get_missing_events");
    if (!doc.ok()) return done(std::move(doc).error());
    done(list_of(*doc, "events", true));
  });
}

void FederationRoomSource::state_ids(const std::string& server, const std::string& room_id,
                                     const std::string& event_id, StateIdsDone done) {
  OutboundRequest request;
  request.destination = server;
  request.target = "/_matrix/federation/v1/state_ids/" + encode_path_segment(room_id) +
                   "?event_id=" + encode_path_segment(event_id);
  client_.send(std::move(request), [done = std::move(done)](Result<OutboundResponse> r) {
    auto doc = answer_object(r, "state_ids");
    if (!doc.ok()) return done(std::move(doc).error());
    done(RemoteStateIds{list_of(*doc, "pdu_ids", false), list_of(*doc, "auth_chain_ids", false)});
  });
}

void FederationRoomSource::event(const std::string& server, const std::string& event_id,
                                 EventDone done) {
  OutboundRequest request;
  request.destination = server;
  request.target = "/_matrix/federation/v1/event/" + encode_path_segment(event_id);
  client_.send(std::move(request), [done = std::move(done)](Result<OutboundResponse> r) {
    auto doc = answer_object(r, "event");
    if (!doc.ok()) return done(std::move(doc).error());
    auto pdus = list_of(*doc, "pdus", true);
    if (pdus.size() != 1) return done(Error::with(502, "M_UNKNOWN", "event answered no PDU"));
    done(std::move(pdus.front()));
  });
}

}  // namespace haven::federation
