// Client-Server API: server-side key backups (/room_keys/version and /room_keys/keys), only
// ever the requester's own backups. The rules live in e2ee/key_backup.
#include <memory>

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/e2ee/key_backup.h"
#include "homeserver/rooms/ids.h"

namespace haven::client {

namespace {

constexpr size_t kMaxAuthDataBytes = 64 * 1024;
constexpr size_t kMaxSessionDataBytes = 64 * 1024;
constexpr size_t kMaxSessionIdBytes = 255;
constexpr size_t kMaxKeysPerUpload = 10000;
// A backup's keys come back in one response (GET /room_keys/keys), so their number is bounded;
// heavy users reach tens of thousands of sessions.
constexpr int64_t kMaxKeysPerBackup = 200000;

std::string_view view(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string quoted(std::string_view s) {
  return json::to_string(json::Value(rapidjson::StringRef(s.data(), s.size())));
}

Error unknown_version() { return Error::not_found("Unknown backup version"); }

// The {version} path parameter or the ?version= query parameter.
Result<uint64_t> path_version(const http::Exchange& ex) {
  auto v = e2ee::parse_version(ex.params[0]);
  if (!v) return unknown_version();
  return *v;
}

Result<uint64_t> query_version(const http::Exchange& ex) {
  auto text = ex.query("version");
  if (!text) return Error::missing_param("Missing 'version' query parameter");
  auto v = e2ee::parse_version(*text);
  if (!v) return unknown_version();
  return *v;
}

Result<std::string> valid_room_id(const std::string& room_id) {
  if (!rooms::is_valid_room_id(room_id)) return Error::invalid_param("Invalid room id");
  return room_id;
}

Result<std::string> valid_session_id(const std::string& session_id) {
  if (session_id.empty() || session_id.size() > kMaxSessionIdBytes ||
      session_id.find('\0') != std::string::npos || !rooms::is_valid_utf8(session_id)) {
    return Error::invalid_param("Invalid session id");
  }
  return session_id;
}

// --- typed requests ------------------------------------------------------------------------

struct VersionBody {
  std::string algorithm;
  std::string auth_data_json;
  std::optional<std::string> version;
};

// {"algorithm", "auth_data", "version"?} of POST and PUT /room_keys/version.
Result<VersionBody> parse_version_body(const json::Value& body) {
  VersionBody out;
  auto algorithm = json::required_string(body, "algorithm");
  if (!algorithm.ok()) return algorithm.error();
  auto auth_data = json::required_object(body, "auth_data");
  if (!auth_data.ok()) return auth_data.error();
  auto version = json::optional_string(body, "version");
  if (!version.ok()) return version.error();
  if (*algorithm != e2ee::kMegolmBackupV1) {
    return Error::invalid_param("Unsupported backup algorithm: " + *algorithm);
  }
  auto public_key = json::required_string(**auth_data, "public_key");
  if (!public_key.ok()) return public_key.error();
  out.algorithm = std::move(*algorithm);
  out.auth_data_json = json::to_string(**auth_data);
  if (out.auth_data_json.size() > kMaxAuthDataBytes) {
    return Error::too_large("auth_data is larger than 64 KiB");
  }
  out.version = std::move(*version);
  return out;
}

// KeyBackupData: {"first_message_index", "forwarded_count", "is_verified", "session_data"}.
Result<e2ee::RoomKey> parse_key_data(const json::Value& data) {
  if (!data.IsObject()) return Error::bad_json("Key data must be an object");
  auto first = json::optional_int(data, "first_message_index");
  if (!first.ok()) return first.error();
  auto forwarded = json::optional_int(data, "forwarded_count");
  if (!forwarded.ok()) return forwarded.error();
  auto verified = json::optional_bool(data, "is_verified");
  if (!verified.ok()) return verified.error();
  auto session_data = json::required_object(data, "session_data");
  if (!session_data.ok()) return session_data.error();
  if (!*first) return Error::missing_param("Missing 'first_message_index'");
  if (!*forwarded) return Error::missing_param("Missing 'forwarded_count'");
  if (!*verified) return Error::missing_param("Missing 'is_verified'");
  if (**first < 0 || **forwarded < 0) {
    return Error::invalid_param("first_message_index and forwarded_count must not be negative");
  }
  e2ee::RoomKey key;
  key.first_message_index = **first;
  key.forwarded_count = **forwarded;
  key.is_verified = **verified;
  key.session_data_json = json::to_string(**session_data);
  if (key.session_data_json.size() > kMaxSessionDataBytes) {
    return Error::too_large("session_data is larger than 64 KiB");
  }
  return key;
}

// RoomKeyBackup: {"sessions": {session_id: KeyBackupData}}, appended to `out`.
Status parse_room_backup(const json::Value& room, const std::string& room_id,
                         std::vector<e2ee::RoomKeyUpload>& out) {
  if (!room.IsObject()) return Error::bad_json("Room key backup must be an object");
  auto sessions = json::required_object(room, "sessions");
  if (!sessions.ok()) return sessions.error();
  for (const auto& s : (*sessions)->GetObject()) {
    auto session_id = valid_session_id(std::string(view(s.name)));
    if (!session_id.ok()) return session_id.error();
    auto key = parse_key_data(s.value);
    if (!key.ok()) return key.error();
    if (out.size() >= kMaxKeysPerUpload) {
      return Error::too_large("At most " + std::to_string(kMaxKeysPerUpload) + " keys per upload");
    }
    out.push_back({room_id, std::move(*session_id), std::move(*key)});
  }
  return {};
}

// Which keys a /room_keys/keys[/{roomId}[/{sessionId}]] request names.
struct KeysScope {
  std::optional<std::string> room_id;
  std::optional<std::string> session_id;
};

Result<KeysScope> keys_scope(const http::Exchange& ex, int depth) {
  KeysScope scope;
  if (depth >= 1) {
    auto room = valid_room_id(ex.params[0]);
    if (!room.ok()) return room.error();
    scope.room_id = std::move(*room);
  }
  if (depth >= 2) {
    auto session = valid_session_id(ex.params[1]);
    if (!session.ok()) return session.error();
    scope.session_id = std::move(*session);
  }
  return scope;
}

// --- responses -----------------------------------------------------------------------------

json::Document version_json(const e2ee::BackupVersion& v) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "algorithm", v.algorithm, a);
  json::Document auth = json::parse_trusted(v.auth_data_json);
  json::Value auth_copy(auth, a);
  json::set(d, "auth_data", std::move(auth_copy), a);
  json::set(d, "count", v.count, a);
  json::set(d, "etag", std::to_string(v.etag), a);
  json::set(d, "version", e2ee::version_string(v.version), a);
  return d;
}

void reply_counts(const http::ExchangePtr& ex, const Result<e2ee::BackupCounts>& r) {
  if (!r.ok()) return ex->reply_error(r.error());
  auto d = json::object();
  json::set(d, "count", r->count, d.GetAllocator());
  json::set(d, "etag", r->etag, d.GetAllocator());
  ex->reply_json(200, d);
}

// {"sessions": {...}} for the keys of one room, from keys[begin, end).
void append_sessions(std::string& out, const std::vector<e2ee::StoredRoomKey>& keys, size_t begin,
                     size_t end) {
  out += "{\"sessions\":{";
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += ',';
    out += quoted(keys[i].session_id);
    out += ':';
    out += keys[i].json;
  }
  out += "}}";
}

// {"rooms": {room_id: {"sessions": {...}}}}; the keys come ordered by room.
std::string rooms_json(const std::vector<e2ee::StoredRoomKey>& keys) {
  std::string out = "{\"rooms\":{";
  size_t begin = 0;
  while (begin < keys.size()) {
    size_t end = begin;
    while (end < keys.size() && keys[end].room_id == keys[begin].room_id) ++end;
    if (begin > 0) out += ',';
    out += quoted(keys[begin].room_id);
    out += ':';
    append_sessions(out, keys, begin, end);
    begin = end;
  }
  out += "}}";
  return out;
}

// --- handlers ------------------------------------------------------------------------------

// POST /_matrix/client/v3/room_keys/version
void create_backup_version(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto req = parse_version_body(*body);
  if (!req.ok()) return ex->reply_error(req.error());
  write<e2ee::BackupVersion>(
      *ctx.store,
      [user_id = who.user_id, req = std::move(*req)](storage::WriteTxn& txn) {
        return e2ee::create_backup(txn, user_id, req.algorithm, req.auth_data_json);
      },
      [ex](Result<e2ee::BackupVersion> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        auto d = json::object();
        json::set(d, "version", e2ee::version_string(r->version), d.GetAllocator());
        ex->reply_json(200, d);
      });
}

// GET /_matrix/client/v3/room_keys/version
// GET /_matrix/client/v3/room_keys/version/{version}
void get_backup_version(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                        bool latest) {
  std::optional<uint64_t> wanted;
  if (!latest) {
    auto v = path_version(*ex);
    if (!v.ok()) return ex->reply_error(v.error());
    wanted = *v;
  }
  auto txn = ctx.store->begin_read();
  auto v = wanted ? e2ee::get_backup(*txn, who.user_id, *wanted)
                  : e2ee::latest_backup(*txn, who.user_id);
  if (!v) {
    return ex->reply_error(latest ? Error::not_found("No current backup version")
                                  : unknown_version());
  }
  ex->reply_json(200, version_json(*v));
}

// PUT /_matrix/client/v3/room_keys/version/{version}
void update_backup_version(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto version = path_version(*ex);
  if (!version.ok()) return ex->reply_error(version.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto req = parse_version_body(*body);
  if (!req.ok()) return ex->reply_error(req.error());
  if (req->version && *req->version != ex->params[0]) {
    return ex->reply_error(Error::invalid_param("version does not match the path"));
  }
  write<bool>(
      *ctx.store,
      [user_id = who.user_id, version = *version,
       req = std::move(*req)](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(e2ee::update_backup(txn, user_id, version, req.algorithm, req.auth_data_json));
        return true;
      },
      reply_empty(ex));
}

// DELETE /_matrix/client/v3/room_keys/version/{version}
void delete_backup_version(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto version = path_version(*ex);
  if (!version.ok()) return ex->reply_error(version.error());
  write<bool>(
      *ctx.store,
      [user_id = who.user_id, version = *version](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(e2ee::delete_backup(txn, user_id, version));
        return true;
      },
      reply_empty(ex));
}

// PUT /_matrix/client/v3/room_keys/keys
// PUT /_matrix/client/v3/room_keys/keys/{roomId}
// PUT /_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}
void put_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who, int depth) {
  auto scope = keys_scope(*ex, depth);
  if (!scope.ok()) return ex->reply_error(scope.error());
  auto version = query_version(*ex);
  if (!version.ok()) return ex->reply_error(version.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  std::vector<e2ee::RoomKeyUpload> keys;
  if (depth == 2) {
    auto key = parse_key_data(*body);
    if (!key.ok()) return ex->reply_error(key.error());
    keys.push_back({*scope->room_id, *scope->session_id, std::move(*key)});
  } else if (depth == 1) {
    if (auto s = parse_room_backup(*body, *scope->room_id, keys); !s.ok()) {
      return ex->reply_error(s.error());
    }
  } else {
    auto rooms_obj = json::required_object(*body, "rooms");
    if (!rooms_obj.ok()) return ex->reply_error(rooms_obj.error());
    for (const auto& room : (*rooms_obj)->GetObject()) {
      auto room_id = valid_room_id(std::string(view(room.name)));
      if (!room_id.ok()) return ex->reply_error(room_id.error());
      if (auto s = parse_room_backup(room.value, *room_id, keys); !s.ok()) {
        return ex->reply_error(s.error());
      }
    }
  }
  auto shared = std::make_shared<std::vector<e2ee::RoomKeyUpload>>(std::move(keys));
  write<e2ee::BackupCounts>(
      *ctx.store,
      [user_id = who.user_id, version = *version, shared](storage::WriteTxn& txn) {
        return e2ee::put_room_keys(txn, user_id, version, *shared, kMaxKeysPerBackup);
      },
      [ex](Result<e2ee::BackupCounts> r) { reply_counts(ex, r); });
}

// GET /_matrix/client/v3/room_keys/keys
// GET /_matrix/client/v3/room_keys/keys/{roomId}
// GET /_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}
void get_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who, int depth) {
  auto scope = keys_scope(*ex, depth);
  if (!scope.ok()) return ex->reply_error(scope.error());
  auto version = query_version(*ex);
  if (!version.ok()) return ex->reply_error(version.error());
  auto txn = ctx.store->begin_read();
  auto keys = e2ee::get_room_keys(*txn, who.user_id, *version, scope->room_id, scope->session_id);
  txn.reset();
  if (!keys.ok()) return ex->reply_error(keys.error());
  if (depth == 2) {
    if (keys->empty()) return ex->reply_error(Error::not_found("Key not found"));
    return ex->reply_json(200, keys->front().json);
  }
  if (depth == 1) {
    std::string out;
    append_sessions(out, *keys, 0, keys->size());
    return ex->reply_json(200, out);
  }
  ex->reply_json(200, rooms_json(*keys));
}

// DELETE /_matrix/client/v3/room_keys/keys
// DELETE /_matrix/client/v3/room_keys/keys/{roomId}
// DELETE /_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}
void delete_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who, int depth) {
  auto scope = keys_scope(*ex, depth);
  if (!scope.ok()) return ex->reply_error(scope.error());
  auto version = query_version(*ex);
  if (!version.ok()) return ex->reply_error(version.error());
  write<e2ee::BackupCounts>(
      *ctx.store,
      [user_id = who.user_id, version = *version, scope = *scope](storage::WriteTxn& txn) {
        return e2ee::delete_room_keys(txn, user_id, version, scope.room_id, scope.session_id);
      },
      [ex](Result<e2ee::BackupCounts> r) { reply_counts(ex, r); });
}

}  // namespace

void register_room_key_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", v3("/room_keys/version"),
             [&ctx](auto& ex, auto& who) { create_backup_version(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/room_keys/version"),
             [&ctx](auto& ex, auto& who) { get_backup_version(ctx, ex, who, true); });
  add_authed(r, ctx, "GET", v3("/room_keys/version/{version}"),
             [&ctx](auto& ex, auto& who) { get_backup_version(ctx, ex, who, false); });
  add_authed(r, ctx, "PUT", v3("/room_keys/version/{version}"),
             [&ctx](auto& ex, auto& who) { update_backup_version(ctx, ex, who); });
  add_authed(r, ctx, "DELETE", v3("/room_keys/version/{version}"),
             [&ctx](auto& ex, auto& who) { delete_backup_version(ctx, ex, who); });
  const std::string paths[] = {v3("/room_keys/keys"), v3("/room_keys/keys/{roomId}"),
                               v3("/room_keys/keys/{roomId}/{sessionId}")};
  for (int depth = 0; depth < 3; ++depth) {
    add_authed(r, ctx, "PUT", paths[depth],
               [&ctx, depth](auto& ex, auto& who) { put_keys(ctx, ex, who, depth); });
    add_authed(r, ctx, "GET", paths[depth],
               [&ctx, depth](auto& ex, auto& who) { get_keys(ctx, ex, who, depth); });
    add_authed(r, ctx, "DELETE", paths[depth],
               [&ctx, depth](auto& ex, auto& who) { delete_keys(ctx, ex, who, depth); });
  }
}

}  // namespace haven::client
