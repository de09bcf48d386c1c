#include "homeserver/rooms/event_store.h"

#include <algorithm>
#include <cctype>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/event_cache.h"
#include "storage/keys.h"
#include "storage/sealed.h"

namespace haven::rooms {

using storage::Direction;
using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

namespace {

constexpr int kMaxStateGroupChain = 48;  // then a group stores the full state
constexpr uint8_t kFlagRedacted = 1;
constexpr uint8_t kFlagSoftFailed = 2;
constexpr uint8_t kFlagOutlier = 4;
// The PDU is sealed with the room's at-rest key (storage/sealed.h). Every record written since
// at-rest keys exist has it; older ones are sealed once at start-up (seal_plain_events_step).
constexpr uint8_t kFlagSealed = 8;

// Stored event layout: u64 pos | u64 state group | u8 flags | version '\0' | room_id '\0' |
// PDU JSON sealed with the room's key. Everything before the sealed PDU is ids and numbers only.
// Before at-rest keys (no kFlagSealed): u64 pos | u64 group | u8 flags | version '\0' | PDU JSON.
struct RecordView {
  uint64_t pos = 0;
  uint64_t group = 0;
  uint8_t flags = 0;
  std::string_view version;
  std::string_view room_id;  // empty in an unsealed record
  std::string_view body;     // the sealed PDU, or the plain one in an unsealed record
};

std::optional<RecordView> parse_event_record(std::string_view v) {
  if (v.size() < 18) return std::nullopt;
  RecordView r;
  r.pos = *storage::decode_u64(v.substr(0, 8));
  r.group = *storage::decode_u64(v.substr(8, 8));
  r.flags = static_cast<uint8_t>(v[16]);
  KeyReader rest(v.substr(17));
  auto version = rest.str();
  if (!version) return std::nullopt;
  r.version = *version;
  if (r.flags & kFlagSealed) {
    auto room = rest.str();
    if (!room) return std::nullopt;
    r.room_id = *room;
  }
  r.body = rest.tail();
  return r;
}

std::optional<std::string> encode_event(storage::WriteTxn& txn, std::string_view event_id,
                                        uint64_t pos, uint64_t group, uint8_t flags,
                                        std::string_view version, std::string_view room_id,
                                        std::string_view pdu, storage::Status* status) {
  auto sealed = storage::seal(txn, room_id, event_id, pdu, status);
  if (!sealed) return std::nullopt;
  std::string out = storage::encode_u64(pos) + storage::encode_u64(group);
  out.push_back(static_cast<char>(flags | kFlagSealed));
  out.append(KeyBuilder().str(version).str(room_id).build());
  out.append(*sealed);
  return out;
}

std::string member_key(std::string_view a, std::string_view b) {
  return KeyBuilder().str(a).tail(b).take();
}

std::string state_key_of(std::string_view room, std::string_view type, std::string_view sk) {
  return KeyBuilder().str(room).str(type).tail(sk).take();
}

std::string encode_room(const RoomRecord& r) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "version", r.version, a);
  json::set(d, "state_group", static_cast<int64_t>(r.state_group), a);
  json::set(d, "depth", r.depth, a);
  json::set(d, "last_pos", static_cast<int64_t>(r.last_pos), a);
  json::Value ext(rapidjson::kArrayType);
  for (auto& e : r.extremities) ext.PushBack(json::str(e, a), a);
  json::set(d, "extremities", std::move(ext), a);
  return json::to_string(d);
}

struct GroupRecord {
  uint64_t prev = 0;
  int depth = 0;
  std::vector<std::tuple<std::string, std::string, std::string>> delta;  // type, key, id
};

GroupRecord read_group(storage::ReadTxn& txn, uint64_t group) {
  GroupRecord g;
  auto v = txn.get(Table::kStateGroups, storage::encode_u64(group));
  if (!v) return g;
  auto d = json::parse_trusted(*v);
  g.prev = static_cast<uint64_t>(json::get_int(d, "prev"));
  g.depth = static_cast<int>(json::get_int(d, "depth"));
  auto it = d.FindMember("delta");
  if (it != d.MemberEnd() && it->value.IsArray()) {
    for (auto& e : it->value.GetArray()) {
      if (!e.IsArray() || e.Size() != 3) continue;
      g.delta.emplace_back(e[0].GetString(), e[1].GetString(), e[2].GetString());
    }
  }
  return g;
}

storage::Status write_group(storage::WriteTxn& txn, uint64_t id, const GroupRecord& g) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "prev", static_cast<int64_t>(g.prev), a);
  json::set(d, "depth", g.depth, a);
  json::Value delta(rapidjson::kArrayType);
  for (auto& [t, k, e] : g.delta) {
    json::Value row(rapidjson::kArrayType);
    row.PushBack(json::str(t, a), a).PushBack(json::str(k, a), a).PushBack(json::str(e, a), a);
    delta.PushBack(std::move(row), a);
  }
  json::set(d, "delta", std::move(delta), a);
  return txn.put(Table::kStateGroups, storage::encode_u64(id), json::to_string(d));
}

// A new state group: the previous one plus (type, key) -> event_id.
uint64_t add_state_group(storage::WriteTxn& txn, uint64_t prev, const std::string& type,
                         const std::string& key, const std::string& event_id,
                         storage::Status* status) {
  GroupRecord g;
  GroupRecord parent = prev ? read_group(txn, prev) : GroupRecord{};
  if (prev && parent.depth < kMaxStateGroupChain) {
    g.prev = prev;
    g.depth = parent.depth + 1;
    g.delta.emplace_back(type, key, event_id);
  } else {
    auto full = prev ? state_ids_at_group(txn, prev) : std::map<StateKey, std::string>{};
    full[{type, key}] = event_id;
    for (auto& [sk, id] : full) g.delta.emplace_back(sk.first, sk.second, id);
  }
  uint64_t id = txn.next_counter("state_groups");
  *status = write_group(txn, id, g);
  return id;
}

storage::Status record_membership(storage::WriteTxn& txn, const Event& ev, uint64_t pos) {
  const std::string& target = *ev.state_key();
  std::string m = ev.membership();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "membership", m, a);
  json::set(d, "event_id", ev.event_id(), a);
  json::set(d, "pos", static_cast<int64_t>(pos), a);
  auto s = txn.put(Table::kMembershipsByUser, member_key(target, ev.room_id()), json::to_string(d));
  if (!s.ok()) return s;
  return txn.put(Table::kRoomMembers, member_key(ev.room_id(), target), m);
}

// Remembers "this event relates to that one" for /relations and bundled aggregations.
storage::Status index_relation(storage::WriteTxn& txn, const Event& ev, uint64_t pos) {
  const auto& content = ev.content();
  if (!content.IsObject()) return storage::Status::ok_status();
  auto rel = content.FindMember("m.relates_to");
  if (rel == content.MemberEnd() || !rel->value.IsObject()) return storage::Status::ok_status();
  std::string type = json::get_string(rel->value, "rel_type");
  std::string parent = json::get_string(rel->value, "event_id");
  if (type.empty() || parent.empty() || type.size() > 255 || parent.size() > 255) {
    return storage::Status::ok_status();
  }
  return txn.put(Table::kRelations, KeyBuilder().str(parent).str(type).u64(pos).build(),
                 ev.event_id());
}

bool is_server_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']';
}

bool is_media_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Remembers every mxc://server/media_id the event names in plain JSON (content, avatars,
// state), so purging the room can find the media it used. Encrypted events name none.
storage::Status index_media(storage::WriteTxn& txn, std::string_view room_id,
                            std::string_view pdu) {
  constexpr std::string_view kScheme = "mxc://";
  constexpr int kMaxPerEvent = 64;
  size_t at = 0;
  for (int n = 0; n < kMaxPerEvent; ++n) {
    at = pdu.find(kScheme, at);
    if (at == std::string_view::npos) break;
    at += kScheme.size();
    size_t server_end = at;
    while (server_end < pdu.size() && is_server_name_char(pdu[server_end])) ++server_end;
    if (server_end == at || server_end >= pdu.size() || pdu[server_end] != '/') continue;
    size_t id_end = server_end + 1;
    while (id_end < pdu.size() && is_media_id_char(pdu[id_end])) ++id_end;
    std::string_view server = pdu.substr(at, server_end - at);
    std::string_view media_id = pdu.substr(server_end + 1, id_end - server_end - 1);
    at = id_end;
    if (media_id.empty() || server.size() > 255 || media_id.size() > 255) continue;
    if (auto s = link_room_media(txn, room_id, server, media_id); !s.ok()) return s;
  }
  return storage::Status::ok_status();
}

}  // namespace

storage::Status link_room_media(storage::WriteTxn& txn, std::string_view room_id,
                                std::string_view server, std::string_view media_id) {
  auto s =
      txn.put(Table::kRoomMedia, KeyBuilder().str(room_id).str(server).tail(media_id).build(), "");
  if (!s.ok()) return s;
  return txn.put(Table::kMediaRooms, KeyBuilder().str(server).str(media_id).tail(room_id).build(),
                 "");
}

void scan_relations(
    storage::ReadTxn& txn, std::string_view parent_id, std::string_view rel_type, uint64_t from_pos,
    storage::Direction dir,
    const std::function<bool(uint64_t, std::string_view, std::string_view)>& visit) {
  std::string prefix = KeyBuilder().str(parent_id).take();
  if (!rel_type.empty()) prefix = KeyBuilder().str(parent_id).str(rel_type).take();
  std::string from;
  if (!rel_type.empty() && from_pos) from = prefix + storage::encode_u64(from_pos);
  txn.scan(Table::kRelations, prefix, from, dir, [&](std::string_view key, std::string_view id) {
    KeyReader r(key);
    r.str();
    auto type = r.str();
    auto pos = r.u64();
    if (!type || !pos) return true;
    return visit(*pos, *type, id);
  });
}

std::optional<RoomRecord> get_room(storage::ReadTxn& txn, std::string_view room_id) {
  auto v = txn.get(Table::kRooms, room_id);
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  RoomRecord r;
  r.room_id = std::string(room_id);
  r.version = json::get_string(d, "version");
  r.state_group = static_cast<uint64_t>(json::get_int(d, "state_group"));
  r.depth = json::get_int(d, "depth");
  r.last_pos = static_cast<uint64_t>(json::get_int(d, "last_pos"));
  auto it = d.FindMember("extremities");
  if (it != d.MemberEnd() && it->value.IsArray()) {
    for (auto& e : it->value.GetArray()) {
      if (e.IsString()) r.extremities.emplace_back(e.GetString());
    }
  }
  return r;
}

std::optional<StoredEventHeader> get_event_header(storage::ReadTxn& txn,
                                                  std::string_view event_id) {
  auto v = txn.get(Table::kEvents, event_id);
  auto record = v ? parse_event_record(*v) : std::nullopt;
  if (!record) return std::nullopt;
  return StoredEventHeader{std::string(record->room_id), record->pos, record->group};
}

std::optional<StoredEvent> get_event(storage::ReadTxn& txn, std::string_view event_id) {
  auto v = txn.get(Table::kEvents, event_id);
  if (!v) return std::nullopt;
  auto record = parse_event_record(*v);
  if (!record || !(record->flags & kFlagSealed)) return std::nullopt;
  StoredEvent out;
  out.pos = record->pos;
  out.state_group = record->group;
  out.redacted = (record->flags & kFlagRedacted) != 0;
  out.soft_failed = (record->flags & kFlagSoftFailed) != 0;
  out.outlier = (record->flags & kFlagOutlier) != 0;
  // A stored event only ever changes by being redacted, so a cached copy with the same
  // redaction flag as this transaction's record is this transaction's event.
  if (auto hit = EventCache::shared().get(event_id); hit && hit->redacted == out.redacted) {
    out.event = std::move(hit->event);
    return out;
  }
  const RoomVersion* version = find_room_version(record->version);
  if (!version) return std::nullopt;
  auto pdu = storage::open_sealed(txn, record->room_id, event_id, record->body);
  if (!pdu) return std::nullopt;  // the room's at-rest key is gone: the room was purged
  auto ev = Event::from_stored(*pdu, std::string(event_id), *version);
  if (!ev) return std::nullopt;
  out.event = std::move(ev);
  EventCache::shared().put(std::string(event_id),
                           CachedEvent{out.event, out.pos, out.state_group, out.redacted});
  return out;
}

std::optional<std::string> redacted_by(storage::ReadTxn& txn, std::string_view event_id) {
  auto v = txn.get(Table::kRedactions, event_id);
  if (!v) return std::nullopt;
  return std::string(*v);
}

EventPtr current_state_event(storage::ReadTxn& txn, std::string_view room_id, std::string_view type,
                             std::string_view state_key) {
  auto id = txn.get(Table::kCurrentState, state_key_of(room_id, type, state_key));
  if (!id) return nullptr;
  auto ev = get_event(txn, std::string(*id));
  return ev ? ev->event : nullptr;
}

EventPtr CurrentStateView::get(std::string_view type, std::string_view state_key) const {
  return current_state_event(txn_, room_id_, type, state_key);
}

std::map<StateKey, std::string> state_ids_at_group(storage::ReadTxn& txn, uint64_t group) {
  std::map<StateKey, std::string> out;
  for (uint64_t g = group; g != 0;) {
    GroupRecord rec = read_group(txn, g);
    for (auto& [t, k, e] : rec.delta) out.try_emplace({t, k}, e);
    g = rec.prev;
  }
  return out;
}

StateMap state_at_group(storage::ReadTxn& txn, uint64_t group) {
  StateMap state;
  for (auto& [key, id] : state_ids_at_group(txn, group)) {
    if (auto ev = get_event(txn, id); ev) state.set(ev->event);
  }
  return state;
}

std::optional<Membership> membership(storage::ReadTxn& txn, std::string_view user_id,
                                     std::string_view room_id) {
  auto v = txn.get(Table::kMembershipsByUser, member_key(user_id, room_id));
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  return Membership{json::get_string(d, "membership"), json::get_string(d, "event_id"),
                    static_cast<uint64_t>(json::get_int(d, "pos"))};
}

std::vector<std::pair<std::string, Membership>> rooms_of_user(storage::ReadTxn& txn,
                                                              std::string_view user_id) {
  std::vector<std::pair<std::string, Membership>> out;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kMembershipsByUser, prefix, {}, Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto d = json::parse_trusted(value);
             out.emplace_back(
                 std::string(key.substr(prefix.size())),
                 Membership{json::get_string(d, "membership"), json::get_string(d, "event_id"),
                            static_cast<uint64_t>(json::get_int(d, "pos"))});
             return true;
           });
  return out;
}

std::vector<std::pair<std::string, std::string>> members_of_room(storage::ReadTxn& txn,
                                                                 std::string_view room_id) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = KeyBuilder().str(room_id).take();
  txn.scan(Table::kRoomMembers, prefix, {}, Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             out.emplace_back(std::string(key.substr(prefix.size())), std::string(value));
             return true;
           });
  return out;
}

uint64_t current_events_pos(storage::ReadTxn& txn) {
  uint64_t pos = 0;
  txn.scan(Table::kStreamEvents, {}, {}, Direction::kBackward,
           [&](std::string_view key, std::string_view) {
             pos = storage::decode_u64(key).value_or(0);
             return false;
           });
  return pos;
}

void scan_events_stream(
    storage::ReadTxn& txn, uint64_t after_pos,
    const std::function<bool(uint64_t pos, std::string_view room_id, std::string_view event_id)>&
        visit) {
  txn.scan(Table::kStreamEvents, {}, storage::encode_u64(after_pos + 1), Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto pos = storage::decode_u64(key);
             storage::KeyReader r(value);
             auto room_id = r.str();
             if (!pos || !room_id) return true;
             return visit(*pos, *room_id, r.tail());
           });
}

void scan_timeline(storage::ReadTxn& txn, std::string_view room_id, uint64_t from_pos,
                   Direction dir,
                   const std::function<bool(uint64_t pos, std::string_view event_id)>& visit) {
  std::string prefix = KeyBuilder().str(room_id).take();
  std::string from = prefix + storage::encode_u64(from_pos);
  txn.scan(Table::kRoomTimeline, prefix, from, dir,
           [&](std::string_view key, std::string_view value) {
             return visit(storage::decode_u64(key.substr(prefix.size())).value_or(0), value);
           });
}

storage::Status put_room(storage::WriteTxn& txn, const RoomRecord& room) {
  return txn.put(Table::kRooms, room.room_id, encode_room(room));
}

uint64_t append_event(storage::WriteTxn& txn, RoomRecord& room, const Event& ev,
                      storage::Status* status) {
  uint64_t pos = txn.next_counter("events");
  // The state before a local event is the current state (built on every forward extremity).
  // Recorded only when it cites several: with one prev event it is that event's state after,
  // which state_ids_before finds without a row (one random-keyed row fewer per send).
  if (room.state_group && ev.prev_events().size() > 1) {
    *status = put_state_group_before(txn, ev.event_id(), room.state_group);
    if (!status->ok()) return 0;
  }
  if (ev.state_key()) {
    room.state_group =
        add_state_group(txn, room.state_group, ev.type(), *ev.state_key(), ev.event_id(), status);
    if (!status->ok()) return 0;
    *status = txn.put(Table::kCurrentState, state_key_of(room.room_id, ev.type(), *ev.state_key()),
                      ev.event_id());
    if (!status->ok()) return 0;
    if (ev.type() == "m.room.member") {
      *status = record_membership(txn, ev, pos);
      if (!status->ok()) return 0;
    }
  }
  const std::string pdu = json::to_string(ev.json());
  *status = index_media(txn, room.room_id, pdu);
  if (!status->ok()) return 0;
  auto record = encode_event(txn, ev.event_id(), pos, room.state_group, 0, room.version,
                             room.room_id, pdu, status);
  if (!record) return 0;
  *status = txn.put(Table::kEvents, ev.event_id(), *record);
  if (!status->ok()) return 0;
  *status =
      txn.put(Table::kRoomTimeline, KeyBuilder().str(room.room_id).u64(pos).build(), ev.event_id());
  if (!status->ok()) return 0;
  *status = txn.put(Table::kStreamEvents, storage::encode_u64(pos),
                    KeyBuilder().str(room.room_id).tail(ev.event_id()).build());
  if (!status->ok()) return 0;
  *status = index_relation(txn, ev, pos);
  if (!status->ok()) return 0;
  std::erase_if(room.extremities, [&](const std::string& id) {
    return std::find(ev.prev_events().begin(), ev.prev_events().end(), id) !=
           ev.prev_events().end();
  });
  room.extremities.push_back(ev.event_id());
  room.depth = std::max(room.depth, ev.depth());
  room.last_pos = pos;
  *status = put_room(txn, room);
  return pos;
}

storage::Status put_outlier(storage::WriteTxn& txn, const Event& event, bool redacted) {
  if (txn.get(Table::kEvents, event.event_id())) return storage::Status::ok_status();
  EventRecord record;
  record.redacted = redacted;
  record.outlier = true;
  return put_event_record(txn, event, event.version().id, record);
}

storage::Status put_rejected(storage::WriteTxn& txn, std::string_view event_id, uint64_t group) {
  return txn.put(Table::kRejectedEvents, event_id, storage::encode_u64(group));
}

std::optional<uint64_t> rejected_event(storage::ReadTxn& txn, std::string_view event_id) {
  auto v = txn.get(Table::kRejectedEvents, event_id);
  if (!v) return std::nullopt;
  return storage::decode_u64(*v).value_or(0);
}

storage::Status put_event_record(storage::WriteTxn& txn, const Event& event,
                                 std::string_view version, const EventRecord& record) {
  const uint8_t flags = (record.redacted ? kFlagRedacted : 0) |
                        (record.soft_failed ? kFlagSoftFailed : 0) |
                        (record.outlier ? kFlagOutlier : 0);
  const std::string pdu = json::to_string(event.json());
  storage::Status s = index_media(txn, event.room_id(), pdu);
  if (!s.ok()) return s;
  auto sealed = encode_event(txn, event.event_id(), record.pos, record.state_group, flags, version,
                             event.room_id(), pdu, &s);
  if (!sealed) return s;
  return txn.put(Table::kEvents, event.event_id(), *sealed);
}

storage::Status put_in_timeline(storage::WriteTxn& txn, const Event& ev, uint64_t pos) {
  auto s =
      txn.put(Table::kRoomTimeline, KeyBuilder().str(ev.room_id()).u64(pos).build(), ev.event_id());
  if (!s.ok()) return s;
  s = txn.put(Table::kStreamEvents, storage::encode_u64(pos),
              KeyBuilder().str(ev.room_id()).tail(ev.event_id()).build());
  if (!s.ok()) return s;
  return index_relation(txn, ev, pos);
}

storage::Status set_current_state_entry(storage::WriteTxn& txn, std::string_view room_id,
                                        const StateKey& key, const Event* event, uint64_t pos) {
  std::string row = state_key_of(room_id, key.first, key.second);
  if (!event) {
    if (key.first == "m.room.member") {
      auto s = txn.del(Table::kMembershipsByUser, member_key(key.second, room_id));
      if (!s.ok()) return s;
      s = txn.del(Table::kRoomMembers, member_key(room_id, key.second));
      if (!s.ok()) return s;
    }
    return txn.del(Table::kCurrentState, row);
  }
  auto s = txn.put(Table::kCurrentState, row, event->event_id());
  if (!s.ok()) return s;
  if (event->type() == "m.room.member") return record_membership(txn, *event, pos);
  return s;
}

uint64_t add_to_state_group(storage::WriteTxn& txn, uint64_t base, const std::string& type,
                            const std::string& state_key, const std::string& event_id,
                            storage::Status* status) {
  return add_state_group(txn, base, type, state_key, event_id, status);
}

uint64_t put_state_group(storage::WriteTxn& txn, uint64_t base,
                         const std::map<StateKey, std::string>& state, storage::Status* status) {
  GroupRecord g;
  GroupRecord parent = base ? read_group(txn, base) : GroupRecord{};
  auto base_state = base ? state_ids_at_group(txn, base) : std::map<StateKey, std::string>{};
  bool keeps_base_keys = std::all_of(base_state.begin(), base_state.end(), [&](const auto& entry) {
    return state.contains(entry.first);
  });
  if (base && keeps_base_keys && parent.depth < kMaxStateGroupChain) {
    g.prev = base;
    g.depth = parent.depth + 1;
    for (const auto& [key, id] : state) {
      auto it = base_state.find(key);
      if (it == base_state.end() || it->second != id)
        g.delta.emplace_back(key.first, key.second, id);
    }
  } else {
    for (const auto& [key, id] : state) g.delta.emplace_back(key.first, key.second, id);
  }
  uint64_t id = txn.next_counter("state_groups");
  *status = write_group(txn, id, g);
  return id;
}

storage::Status put_state_group_before(storage::WriteTxn& txn, std::string_view event_id,
                                       uint64_t group) {
  return txn.put(Table::kEventStateGroup, event_id, storage::encode_u64(group));
}

std::optional<uint64_t> state_group_before(storage::ReadTxn& txn, std::string_view event_id) {
  auto v = txn.get(Table::kEventStateGroup, event_id);
  if (!v) return std::nullopt;
  return storage::decode_u64(*v);
}

storage::Status store_redaction(storage::WriteTxn& txn, std::string_view event_id,
                                const rapidjson::Value& redacted_pdu,
                                std::string_view redaction_event_id) {
  auto v = txn.get(Table::kEvents, event_id);
  auto old = v ? parse_event_record(*v) : std::nullopt;
  if (!old || !(old->flags & kFlagSealed)) return storage::Status::not_found();
  storage::Status s;
  // Copied: the view into the old record dies at the first write.
  auto flags = static_cast<uint8_t>(old->flags | kFlagRedacted);
  auto updated = encode_event(txn, event_id, old->pos, old->group, flags, std::string(old->version),
                              std::string(old->room_id), json::to_string(redacted_pdu), &s);
  if (!updated) return s;
  s = txn.put(Table::kEvents, event_id, *updated);
  if (!s.ok()) return s;
  return txn.put(Table::kRedactions, event_id, redaction_event_id);
}

Result<SealStep> seal_plain_events_step(storage::WriteTxn& txn, std::string_view after,
                                        size_t budget) {
  // Copied out first: a scan's views die at the first write.
  std::vector<std::pair<std::string, std::string>> rows;
  std::optional<std::string> last;
  SealStep step;
  size_t visited = 0;
  txn.scan(Table::kEvents, {}, after, Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             if (key == after) return true;
             last = std::string(key);
             auto record = parse_event_record(value);
             if (record && !(record->flags & kFlagSealed)) rows.emplace_back(key, value);
             return rows.size() < budget && ++visited < budget * 16;
           });
  for (const auto& [event_id, value] : rows) {
    auto record = *parse_event_record(value);
    // The event's own room id: a v12 create event has none in its JSON but defines it.
    const RoomVersion* version = find_room_version(record.version);
    EventPtr event = version ? Event::from_stored(record.body, event_id, *version) : nullptr;
    if (!event || event->room_id().empty()) continue;  // unreadable before too: left as it is
    const std::string& room_id = event->room_id();
    // Its media are indexed too, so purging the room finds them as for new events.
    storage::Status s = index_media(txn, room_id, record.body);
    if (!s.ok()) return check(s).error();
    auto sealed = encode_event(txn, event_id, record.pos, record.group, record.flags,
                               record.version, room_id, record.body, &s);
    if (!sealed) return check(s).error();
    HAVEN_TRY(check(txn.put(Table::kEvents, event_id, *sealed)));
    ++step.sealed;
  }
  step.last = std::move(last);
  return step;
}

}  // namespace haven::rooms

// --- Memberships of local users in rooms this server is not in ------------------------------

namespace haven::rooms {

uint64_t append_membership_outside_room(storage::WriteTxn& txn, const Event& ev,
                                        storage::Status* status) {
  uint64_t pos = txn.next_counter("events");
  *status = put_event_record(txn, ev, ev.version().id, {pos, 0, false, false, false});
  if (!status->ok()) return 0;
  *status = txn.put(Table::kStreamEvents, storage::encode_u64(pos),
                    KeyBuilder().str(ev.room_id()).tail(ev.event_id()).build());
  if (!status->ok()) return 0;
  *status = record_membership(txn, ev, pos);
  return pos;
}

}  // namespace haven::rooms
