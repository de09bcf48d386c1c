#include "homeserver/push/pushers.h"

#include "storage/keys.h"

namespace haven::push {

using storage::KeyBuilder;
using storage::Table;

namespace {

std::string pusher_key(std::string_view user_id, std::string_view app_id,
                       std::string_view pushkey) {
  return KeyBuilder().str(user_id).str(app_id).tail(pushkey).take();
}

std::string encode(const Pusher& p) {
  json::Document d = pusher_to_json(p);
  json::set(d, "user_id", p.user_id, d.GetAllocator());
  return json::to_string(d);
}

std::optional<Pusher> decode(std::string_view text) {
  json::Document d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  Pusher p;
  p.user_id = json::get_string(d, "user_id");
  p.app_id = json::get_string(d, "app_id");
  p.pushkey = json::get_string(d, "pushkey");
  p.pushkey_ts = json::get_int(d, "pushkey_ts");
  p.kind = json::get_string(d, "kind", "http");
  p.app_display_name = json::get_string(d, "app_display_name");
  p.device_display_name = json::get_string(d, "device_display_name");
  p.profile_tag = json::get_string(d, "profile_tag");
  p.lang = json::get_string(d, "lang");
  auto data = d.FindMember("data");
  p.data_json = data != d.MemberEnd() ? json::to_string(data->value) : "{}";
  return p;
}

// Every stored pusher, for the rare scans by pushkey.
void scan_all(storage::ReadTxn& txn, const std::function<void(const Pusher&)>& visit) {
  txn.scan(Table::kPushers, "", "", storage::Direction::kForward,
           [&](std::string_view, std::string_view value) {
             if (auto p = decode(value)) visit(*p);
             return true;
           });
}

}  // namespace

json::Document pusher_to_json(const Pusher& p) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "app_id", p.app_id, a);
  json::set(d, "pushkey", p.pushkey, a);
  json::set(d, "pushkey_ts", p.pushkey_ts, a);
  json::set(d, "kind", p.kind, a);
  json::set(d, "app_display_name", p.app_display_name, a);
  json::set(d, "device_display_name", p.device_display_name, a);
  if (!p.profile_tag.empty()) json::set(d, "profile_tag", p.profile_tag, a);
  json::set(d, "lang", p.lang, a);
  json::Document data = json::parse_trusted(p.data_json);
  if (!data.IsObject()) data.SetObject();
  json::set(d, "data", json::Value(data, a), a);
  return d;
}

std::vector<Pusher> pushers_of(storage::ReadTxn& txn, std::string_view user_id) {
  std::vector<Pusher> out;
  txn.scan(Table::kPushers, KeyBuilder().str(user_id).take(), "", storage::Direction::kForward,
           [&](std::string_view, std::string_view value) {
             if (auto p = decode(value)) out.push_back(std::move(*p));
             return true;
           });
  return out;
}

bool has_pushers(storage::ReadTxn& txn, std::string_view user_id) {
  bool found = false;
  txn.scan(Table::kPushers, KeyBuilder().str(user_id).take(), "", storage::Direction::kForward,
           [&](std::string_view, std::string_view) {
             found = true;
             return false;
           });
  return found;
}

storage::Status put_pusher(storage::WriteTxn& txn, const Pusher& pusher, bool append) {
  if (!append) {
    if (auto s = delete_pushkey(txn, pusher.app_id, pusher.pushkey); !s.ok()) return s;
  }
  return txn.put(Table::kPushers, pusher_key(pusher.user_id, pusher.app_id, pusher.pushkey),
                 encode(pusher));
}

storage::Status delete_pusher(storage::WriteTxn& txn, std::string_view user_id,
                              std::string_view app_id, std::string_view pushkey) {
  return txn.del(Table::kPushers, pusher_key(user_id, app_id, pushkey));
}

storage::Status delete_pushkey(storage::WriteTxn& txn, std::string_view app_id,
                               std::string_view pushkey) {
  std::vector<std::string> owners;
  scan_all(txn, [&](const Pusher& p) {
    if (p.app_id == app_id && p.pushkey == pushkey) owners.push_back(p.user_id);
  });
  for (const std::string& user_id : owners) {
    if (auto s = delete_pusher(txn, user_id, app_id, pushkey); !s.ok()) return s;
  }
  return storage::Status::ok_status();
}

}  // namespace haven::push
