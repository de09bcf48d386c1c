#include "appservices/care/temporary_store.h"

#include <functional>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"

namespace haven::care {

namespace {

using storage::Table;

std::optional<TemporaryRoom> decode(std::string_view room_id, std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  TemporaryRoom r;
  r.room_id = std::string(room_id);
  r.owner = json::get_string(d, "owner");
  r.created_ms = json::get_int(d, "created_ms");
  r.deletes_ms = json::get_int(d, "deletes_ms");
  r.in_call = json::get_bool(d, "in_call");
  r.announced_ms = json::get_int(d, "announced_ms", r.deletes_ms);
  return r;
}

std::vector<TemporaryRoom> matching(storage::Store& store, size_t limit,
                                    const std::function<bool(const TemporaryRoom&)>& wanted) {
  std::vector<TemporaryRoom> out;
  auto txn = store.begin_read();
  if (!txn) return out;
  txn->scan(Table::kCareTemporaryRooms, "", "", storage::Direction::kForward,
            [&](std::string_view key, std::string_view value) {
              auto r = decode(key, value);
              if (r && wanted(*r)) out.push_back(std::move(*r));
              return out.size() < limit;
            });
  return out;
}

}  // namespace

std::optional<TemporaryRoom> TemporaryStore::room(const std::string& room_id) const {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto v = txn->get(Table::kCareTemporaryRooms, room_id);
  if (!v) return std::nullopt;
  return decode(room_id, *v);
}

std::vector<TemporaryRoom> TemporaryStore::due(int64_t now_ms, size_t limit) const {
  return matching(store_, limit, [now_ms](const TemporaryRoom& r) {
    return !r.in_call && r.deletes_ms <= now_ms;
  });
}

std::vector<TemporaryRoom> TemporaryStore::unannounced(size_t limit) const {
  return matching(store_, limit, [](const TemporaryRoom& r) {
    return !r.in_call && r.announced_ms != r.deletes_ms;
  });
}

storage::Status TemporaryStore::put_in(storage::WriteTxn& txn, const TemporaryRoom& r) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "owner", r.owner, a);
  json::set(d, "created_ms", r.created_ms, a);
  json::set(d, "deletes_ms", r.deletes_ms, a);
  json::set(d, "in_call", r.in_call, a);
  json::set(d, "announced_ms", r.announced_ms, a);
  return txn.put(Table::kCareTemporaryRooms, r.room_id, json::to_string(d));
}

Status TemporaryStore::put(const TemporaryRoom& r) {
  return check(store_.run([r](storage::WriteTxn& txn) { return put_in(txn, r); }));
}

Status TemporaryStore::remove(const std::string& room_id) {
  return check(store_.run(
      [room_id](storage::WriteTxn& txn) { return txn.del(Table::kCareTemporaryRooms, room_id); }));
}

}  // namespace haven::care
