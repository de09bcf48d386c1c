#include "appservices/care/guest_store.h"

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"

namespace haven::care {

namespace {

using storage::Table;

std::string guest_key(std::string_view user_id) { return "g" + std::string(1, '\0') + std::string(user_id); }

std::optional<RequestStatus> parse_status(std::string_view s) {
  if (s == "pending") return RequestStatus::kPending;
  if (s == "accepted") return RequestStatus::kAccepted;
  if (s == "rejected") return RequestStatus::kRejected;
  if (s == "removed") return RequestStatus::kRemoved;
  return std::nullopt;
}

std::string encode_request(const GuestRequest& r) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "id", r.id, a);
  json::set(d, "room_id", r.room_id, a);
  json::set(d, "link_hash", r.link_hash, a);
  json::set(d, "guest_user_id", r.guest_user_id, a);
  json::set(d, "name", r.name, a);
  json::set(d, "poll_hash", r.poll_hash, a);
  json::set(d, "status", status_name(r.status), a);
  json::set(d, "created_ms", r.created_ms, a);
  json::set(d, "device_id", r.device_id, a);
  json::set(d, "access_token", r.access_token, a);
  json::set(d, "haven_last_seen", r.haven_last_seen, a);
  json::set(d, "last_active_ms", r.last_active_ms, a);
  return json::to_string(d);
}

std::optional<GuestRequest> decode_request(std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  GuestRequest r;
  r.id = json::get_string(d, "id");
  r.room_id = json::get_string(d, "room_id");
  r.link_hash = json::get_string(d, "link_hash");
  r.guest_user_id = json::get_string(d, "guest_user_id");
  r.name = json::get_string(d, "name");
  r.poll_hash = json::get_string(d, "poll_hash");
  auto status = parse_status(json::get_string(d, "status"));
  if (!status) return std::nullopt;
  r.status = *status;
  r.created_ms = json::get_int(d, "created_ms");
  r.device_id = json::get_string(d, "device_id");
  r.access_token = json::get_string(d, "access_token");
  r.haven_last_seen = json::get_int(d, "haven_last_seen");
  r.last_active_ms = json::get_int(d, "last_active_ms");
  return r;
}

}  // namespace

std::string_view status_name(RequestStatus s) {
  switch (s) {
    case RequestStatus::kPending:
      return "pending";
    case RequestStatus::kAccepted:
      return "accepted";
    case RequestStatus::kRejected:
      return "rejected";
    case RequestStatus::kRemoved:
      return "removed";
  }
  return "pending";
}

std::string hash_token(std::string_view token) {
  return crypto::base64_encode_urlsafe(crypto::sha256(token));
}

std::optional<GuestLink> GuestStore::link(const std::string& token_hash) const {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto v = txn->get(Table::kCareGuestLinks, token_hash);
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  if (!d.IsObject()) return std::nullopt;
  GuestLink l;
  l.token_hash = token_hash;
  l.room_id = json::get_string(d, "room_id");
  l.owner = json::get_string(d, "owner");
  l.created_ms = json::get_int(d, "created_ms");
  l.expires_ms = json::get_int(d, "expires_ms");
  l.revoked = json::get_bool(d, "revoked");
  return l;
}

Status GuestStore::put_link(const GuestLink& l) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "room_id", l.room_id, a);
  json::set(d, "owner", l.owner, a);
  json::set(d, "created_ms", l.created_ms, a);
  json::set(d, "expires_ms", l.expires_ms, a);
  json::set(d, "revoked", l.revoked, a);
  std::string value = json::to_string(d);
  return check(store_.run([key = l.token_hash, value](storage::WriteTxn& txn) {
    return txn.put(Table::kCareGuestLinks, key, value);
  }));
}

std::optional<GuestRequest> GuestStore::request(const std::string& id) const {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto v = txn->get(Table::kCareGuestRequests, id);
  if (!v) return std::nullopt;
  return decode_request(*v);
}

std::optional<GuestRequest> GuestStore::request_of_guest(const std::string& guest_user_id) const {
  std::string id;
  {
    auto txn = store_.begin_read();
    if (!txn) return std::nullopt;
    auto v = txn->get(Table::kCareRequestIndex, guest_key(guest_user_id));
    if (!v) return std::nullopt;
    id = std::string(*v);
  }
  return request(id);
}

std::vector<GuestRequest> GuestStore::requests_with(RequestStatus status) const {
  std::vector<GuestRequest> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  txn->scan(Table::kCareGuestRequests, "", "", storage::Direction::kForward,
            [&](std::string_view, std::string_view value) {
              auto r = decode_request(value);
              if (r && r->status == status) out.push_back(std::move(*r));
              return true;
            });
  return out;
}

size_t GuestStore::pending_in_room(const std::string& room_id) const {
  size_t n = 0;
  for (const auto& r : requests_with(RequestStatus::kPending)) n += r.room_id == room_id;
  return n;
}

Status GuestStore::put_request(const GuestRequest& r) {
  std::string value = encode_request(r);
  return check(store_.run([r, value](storage::WriteTxn& txn) {
    auto s = txn.put(Table::kCareGuestRequests, r.id, value);
    if (!s.ok()) return s;
    return txn.put(Table::kCareRequestIndex, guest_key(r.guest_user_id), r.id);
  }));
}

}  // namespace haven::care
