// Client-Server API: device management (list, look up, rename, delete with user-interactive
// authentication).
#include <memory>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/keys.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/uia.h"
#include "homeserver/e2ee/device_lists.h"

namespace haven::client {

namespace {

constexpr size_t kMaxDeviceNameBytes = 256;

json::Value device_json(const accounts::Device& d, json::Alloc& a) {
  json::Value v(rapidjson::kObjectType);
  json::set(v, "device_id", d.device_id, a);
  if (!d.display_name.empty()) json::set(v, "display_name", d.display_name, a);
  if (!d.last_seen_ip.empty()) json::set(v, "last_seen_ip", d.last_seen_ip, a);
  if (d.last_seen_ts > 0) json::set(v, "last_seen_ts", d.last_seen_ts, a);
  return v;
}

// Hook for end-to-end encryption: when a device goes, its identity keys, one-time and fallback
// keys and to-device inbox go with it, and the user's device list changes for everyone who
// shares a room with them (woken by notify_device_list_changed once the write is durable).
Status delete_device_e2ee_keys(storage::WriteTxn& txn, const std::string& user_id,
                               const std::string& device_id) {
  return check(e2ee::forget_device_keys(txn, user_id, device_id));
}

// Deletes devices (and with them their access tokens); unknown ids are already gone.
void delete_devices_now(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& user_id,
                        std::vector<std::string> device_ids) {
  write<bool>(
      *ctx.store,
      [user_id, device_ids = std::move(device_ids)](storage::WriteTxn& txn) -> Result<bool> {
        for (const std::string& id : device_ids) {
          if (!accounts::get_device(txn, user_id, id)) continue;
          HAVEN_TRY(check(accounts::delete_device(txn, user_id, id)));
          HAVEN_TRY(delete_device_e2ee_keys(txn, user_id, id));
        }
        return true;
      },
      [&ctx, ex, user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        notify_device_list_changed(ctx, user_id);
        ex->reply_json(200, "{}");
      });
}

// GET /_matrix/client/v3/devices
void get_devices(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  auto txn = ctx.store->begin_read();
  for (const accounts::Device& dev : accounts::list_devices(*txn, who.user_id)) {
    list.PushBack(device_json(dev, a), a);
  }
  json::set(d, "devices", std::move(list), a);
  ex->reply_json(200, d);
}

// GET /_matrix/client/v3/devices/{deviceId}
void get_device(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  auto dev = accounts::get_device(*txn, who.user_id, ex->params[0]);
  if (!dev) return ex->reply_error(Error::not_found("Unknown device"));
  auto d = json::object();
  json::Value v = device_json(*dev, d.GetAllocator());
  ex->reply_json(200, v);
}

constexpr size_t kMaxDeviceIdBytes = 255;

// PUT /_matrix/client/v3/devices/{deviceId}: renames a device; an application service may also
// create one for its user this way (Matrix 1.17, MSC4190), answered with 201.
void update_device(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto name = json::optional_string(*body, "display_name");
  if (!name.ok()) return ex->reply_error(name.error());
  if (name->has_value() && (*name)->size() > kMaxDeviceNameBytes) {
    return ex->reply_error(Error::invalid_param("display_name is longer than 256 bytes"));
  }
  const std::string& device_id = ex->params[0];
  if (device_id.size() > kMaxDeviceIdBytes) {
    return ex->reply_error(Error::invalid_param("Device ID is too long"));
  }
  bool may_create = who.appservice != nullptr;
  auto created = std::make_shared<bool>(false);
  write<bool>(
      *ctx.store,
      [user_id = who.user_id, device_id, name = *name, may_create,
       created](storage::WriteTxn& txn) -> Result<bool> {
        auto dev = accounts::get_device(txn, user_id, device_id);
        *created = false;
        if (!dev && !may_create) return Error::not_found("Unknown device");
        if (!dev) {
          dev.emplace();
          dev->user_id = user_id;
          dev->device_id = device_id;
          dev->last_seen_ts = now_ms();
          *created = true;
        }
        if (name) dev->display_name = *name;
        if (!name && !*created) return true;
        HAVEN_TRY(check(accounts::put_device(txn, *dev)));
        if (*created) HAVEN_TRY(check(e2ee::mark_device_list_changed(txn, user_id)));
        return true;
      },
      [&ctx, ex, created, user_id = who.user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (*created) notify_device_list_changed(ctx, user_id);
        ex->reply_json(*created ? 201 : 200, "{}");
      });
}

// DELETE /_matrix/client/v3/devices/{deviceId}
void delete_device(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  std::string device_id = ex->params[0];
  // Application services manage their users' devices without UIA (Matrix 1.17, MSC4190).
  if (who.appservice) return delete_devices_now(ctx, ex, who.user_id, {device_id});
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id,
               [&ctx, ex, user_id = who.user_id, device_id] {
                 delete_devices_now(ctx, ex, user_id, {device_id});
               });
}

// POST /_matrix/client/v3/delete_devices
void delete_devices(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto ids = json::optional_string_list(*body, "devices");
  if (!ids.ok()) return ex->reply_error(ids.error());
  if (!ids->has_value()) return ex->reply_error(Error::missing_param("Missing 'devices'"));
  if (who.appservice) return delete_devices_now(ctx, ex, who.user_id, std::move(**ids));
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id,
               [&ctx, ex, user_id = who.user_id, ids = std::move(**ids)] {
                 delete_devices_now(ctx, ex, user_id, ids);
               });
}

}  // namespace

void register_device_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/devices"),
             [&ctx](auto& ex, auto& who) { get_devices(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/devices/{deviceId}"),
             [&ctx](auto& ex, auto& who) { get_device(ctx, ex, who); });
  add_authed(r, ctx, "PUT", v3("/devices/{deviceId}"),
             [&ctx](auto& ex, auto& who) { update_device(ctx, ex, who); });
  add_authed(r, ctx, "DELETE", v3("/devices/{deviceId}"),
             [&ctx](auto& ex, auto& who) { delete_device(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/delete_devices"),
             [&ctx](auto& ex, auto& who) { delete_devices(ctx, ex, who); });
}

}  // namespace haven::client
