#include "appservices/care/care_app.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

namespace haven::care {

namespace {

const std::string kPrefix = "/_haven/care/v1";

std::optional<std::string> bearer_token(const http::Exchange& ex) {
  auto h = ex.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h && h->size() > kBearer.size() && h->compare(0, kBearer.size(), kBearer) == 0) {
    return h->substr(kBearer.size());
  }
  return ex.query("access_token");
}

Result<std::string> required_token(const http::Exchange& ex) {
  auto t = bearer_token(ex);
  if (!t || t->empty()) return Error::missing_token("Missing access token");
  if (t->size() > 1024) return Error::unknown_token("Unknown access token");
  return *t;
}

Result<json::Document> body_object(const http::Exchange& ex) {
  if (ex.body().empty()) return json::object();
  return json::parse_object(ex.body(), 16);
}

Result<json::Document> empty_object(const Status& s) {
  if (!s.ok()) return s.error();
  return json::object();
}

void reply_page_file(const http::ExchangePtr& ex, Result<GuestPageFiles::File> file) {
  if (!file.ok()) return ex->reply_error(file.error());
  ex->reply_file(200, file->content_type(), file->release(), 0, file->size(), file->headers);
}

}  // namespace

CareApp::CareApp(const CareConfig& config, Loop& loop, Clock& clock, GuestService& guests,
                 TemporaryService& temporary, CallService& calls, CareE2ee* e2ee,
                 const GuestPageFiles& page_files)
    : config_(config),
      loop_(loop),
      clock_(clock),
      guests_(guests),
      temporary_(temporary),
      calls_(calls),
      e2ee_(e2ee),
      page_files_(page_files) {}

void CareApp::add_guest_page_routes(http::Router& router) {
  // GET /_haven/care/v1/guest_links/{token}: the guest's page; it reads the token from its URL
  router.add("GET", kPrefix + "/guest_links/{token}",
             [this](const http::ExchangePtr& ex) { reply_page_file(ex, page_files_.page()); });
  // GET /_haven/care/v1/guest_page/{file}: the page's script, style sheet and crypto wasm
  router.add("GET", kPrefix + "/guest_page/{file}", [this](const http::ExchangePtr& ex) {
    reply_page_file(ex, page_files_.asset(ex->params[0]));
  });
}

void CareApp::add_call_routes(http::Router& router) {
  // GET /_haven/care/v1/call_minutes?from=&to= (R23): the calls of the professional's own
  // temporary conversations.
  router.add("GET", kPrefix + "/call_minutes", [this](const http::ExchangePtr& ex) {
    auto token = required_token(*ex);
    if (!token.ok()) return ex->reply_error(token.error());
    auto range = parse_call_range(ex->query("from"), ex->query("to"));
    if (!range.ok()) return ex->reply_error(range.error());
    run(ex, [this, token = *token, range = *range] { return calls_.own_minutes(token, range); });
  });
  // GET /_haven/care/v1/admin/call_minutes?from=&to=&user_id= (R23): the organisation's calls
  // with totals per professional, for the server's administrators.
  router.add("GET", kPrefix + "/admin/call_minutes", [this](const http::ExchangePtr& ex) {
    auto token = required_token(*ex);
    if (!token.ok()) return ex->reply_error(token.error());
    auto range = parse_call_range(ex->query("from"), ex->query("to"));
    if (!range.ok()) return ex->reply_error(range.error());
    auto owner = ex->query("user_id");
    if (owner && (owner->size() < 3 || owner->size() > 255 || (*owner)[0] != '@' ||
                  owner->find(':') == std::string::npos)) {
      return ex->reply_error(Error::invalid_param("user_id must be a Matrix user id"));
    }
    run(ex, [this, token = *token, range = *range, owner] {
      return calls_.organisation_minutes(token, range, owner);
    });
  });
}

void CareApp::add_temporary_routes(http::Router& router) {
  // POST /_haven/care/v1/temporary_rooms {"name"?, "invite"?: [user ids]} (R19-R21)
  router.add("POST", kPrefix + "/temporary_rooms", [this](const http::ExchangePtr& ex) {
    auto token = required_token(*ex);
    if (!token.ok()) return ex->reply_error(token.error());
    auto body = body_object(*ex);
    if (!body.ok()) return ex->reply_error(body.error());
    auto request = parse_temporary_request(*body);
    if (!request.ok()) return ex->reply_error(request.error());
    run(ex, [this, token = *token, request = *request]() -> Result<json::Document> {
      auto made = temporary_.create(token, request);
      if (!made.ok()) return std::move(made).error();
      auto d = json::object();
      json::set(d, "room_id", made->room_id, d.GetAllocator());
      json::set(d, "deletes_at", made->deletes_at, d.GetAllocator());
      return d;
    });
  });
}

CareApp::~CareApp() { worker_.stop(); }

void CareApp::run(const http::ExchangePtr& ex, std::function<Result<json::Document>()> work) {
  worker_.run<std::shared_ptr<Result<json::Document>>>(
      loop_, [work = std::move(work)] { return std::make_shared<Result<json::Document>>(work()); },
      [ex](std::shared_ptr<Result<json::Document>> r) {
        if (!r->ok()) return ex->reply_error(r->error());
        ex->reply_json(200, r->value());
      });
}

void CareApp::add_routes(http::Router& router) {
  add_temporary_routes(router);
  add_guest_page_routes(router);
  add_call_routes(router);
  // POST /_haven/care/v1/rooms/{roomId}/guest_links
  router.add("POST", kPrefix + "/rooms/{roomId}/guest_links", [this](const http::ExchangePtr& ex) {
    auto token = required_token(*ex);
    if (!token.ok()) return ex->reply_error(token.error());
    run(ex, [this, token = *token, room = ex->params[0]]() -> Result<json::Document> {
      auto link = guests_.create_link(token, room);
      if (!link.ok()) return std::move(link).error();
      auto d = json::object();
      json::set(d, "url", link->url, d.GetAllocator());
      json::set(d, "token", link->token, d.GetAllocator());
      json::set(d, "expires_at", link->expires_at, d.GetAllocator());
      return d;
    });
  });
  // DELETE /_haven/care/v1/rooms/{roomId}/guest_links/{token}
  router.add("DELETE", kPrefix + "/rooms/{roomId}/guest_links/{token}",
             [this](const http::ExchangePtr& ex) {
               auto token = required_token(*ex);
               if (!token.ok()) return ex->reply_error(token.error());
               run(ex, [this, token = *token, room = ex->params[0], link = ex->params[1]] {
                 return empty_object(guests_.revoke_link(token, room, link));
               });
             });
  // POST /_haven/care/v1/guest_links/{token}/requests {"name"}
  router.add("POST", kPrefix + "/guest_links/{token}/requests", [this](const http::ExchangePtr& ex) {
    auto body = body_object(*ex);
    if (!body.ok()) return ex->reply_error(body.error());
    auto name = json::required_string(*body, "name");
    if (!name.ok()) return ex->reply_error(name.error());
    run(ex, [this, link = ex->params[0], name = *name]() -> Result<json::Document> {
      auto r = guests_.ask_access(link, name);
      if (!r.ok()) return std::move(r).error();
      auto d = json::object();
      json::set(d, "request_id", r->request_id, d.GetAllocator());
      json::set(d, "poll_token", r->poll_token, d.GetAllocator());
      return d;
    });
  });
  // GET /_haven/care/v1/guest_requests/{id}?poll_token=
  router.add("GET", kPrefix + "/guest_requests/{id}", [this](const http::ExchangePtr& ex) {
    auto poll_token = ex->query("poll_token");
    if (!poll_token) return ex->reply_error(Error::missing_param("Missing poll_token"));
    run(ex, [this, id = ex->params[0], poll = *poll_token] { return guests_.poll(id, poll); });
  });
  // GET /_haven/care/v1/tasks
  router.add("GET", kPrefix + "/tasks", [this](const http::ExchangePtr& ex) {
    auto token = required_token(*ex);
    if (!token.ok()) return ex->reply_error(token.error());
    run(ex, [this, token = *token] { return guests_.tasks(token); });
  });
  // POST /_haven/care/v1/guest_requests/{id}/accept and .../reject
  for (bool accept : {true, false}) {
    router.add("POST", kPrefix + "/guest_requests/{id}/" + (accept ? "accept" : "reject"),
               [this, accept](const http::ExchangePtr& ex) {
                 auto token = required_token(*ex);
                 if (!token.ok()) return ex->reply_error(token.error());
                 run(ex, [this, accept, token = *token, id = ex->params[0]] {
                   return empty_object(accept ? guests_.accept(token, id)
                                              : guests_.reject(token, id));
                 });
               });
  }
  // POST /_haven/care/v1/testing/clock {"advance_ms"}: only with testing.fake_clock; the idle
  // sweep and the deletion of due temporary conversations run before the answer, so a test
  // sees their effect.
  router.add("POST", kPrefix + "/testing/clock", [this](const http::ExchangePtr& ex) {
    if (!clock_.fake()) return ex->reply_error(Error::unrecognized("Unrecognized request"));
    auto body = body_object(*ex);
    if (!body.ok()) return ex->reply_error(body.error());
    auto ms = json::optional_int(*body, "advance_ms");
    if (!ms.ok()) return ex->reply_error(ms.error());
    if (!*ms || **ms < 0) return ex->reply_error(Error::invalid_param("advance_ms must be >= 0"));
    clock_.advance(**ms);
    run(ex, [this]() -> Result<json::Document> {
      sweep_now();
      auto d = json::object();
      json::set(d, "now_ms", clock_.now_ms(), d.GetAllocator());
      return d;
    });
  });
  // PUT /_matrix/app/v1/transactions/{txnId}: events from haven (hs_token). Membership changes
  // of our guests and call signals in temporary conversations matter; they are handled in
  // order before the answer.
  router.add("PUT", "/_matrix/app/v1/transactions/{txnId}", [this](const http::ExchangePtr& ex) {
    if (bearer_token(*ex) != config_.hs_token) {
      return ex->reply_error(Error::forbidden("Bad hs_token"));
    }
    auto body = body_object(*ex);
    if (!body.ok()) return ex->reply_error(body.error());
    auto doc = std::make_shared<json::Document>(std::move(*body));
    run(ex, [this, doc]() -> Result<json::Document> {
      handle_transaction(*doc);
      return json::object();
    });
  });
  router.add("POST", "/_matrix/app/v1/ping", [this](const http::ExchangePtr& ex) {
    if (bearer_token(*ex) != config_.hs_token) {
      return ex->reply_error(Error::forbidden("Bad hs_token"));
    }
    ex->reply_json(200, "{}");
  });
}

void CareApp::handle_transaction(const json::Value& transaction) {
  if (e2ee_) {
    if (auto s = e2ee_->set_up(); !s.ok()) {
      spdlog::warn("haven-care: device not set up: {}", s.error().message);
    }
    e2ee_->on_key_counts(transaction);
    auto to_device = transaction.FindMember("de.sorunome.msc2409.to_device");
    if (to_device != transaction.MemberEnd() && to_device->value.IsArray()) {
      for (const auto& m : to_device->value.GetArray()) {
        auto room = e2ee_->on_to_device(m);
        if (!room) continue;
        for (const auto& event : e2ee_->decrypt_parked(*room)) handle_decrypted(event);
      }
    }
  }
  auto events = transaction.FindMember("events");
  if (events == transaction.MemberEnd() || !events->value.IsArray()) return;
  for (const auto& e : events->value.GetArray()) {
    if (e.IsObject()) handle_event(e);
  }
}

void CareApp::handle_event(const json::Value& event) {
  const std::string type = json::get_string(event, "type");
  if (type == "m.room.member") guests_.on_member_event(event);
  if (type == "m.room.encrypted") {
    if (!e2ee_ || !temporary_.manages(json::get_string(event, "room_id"))) return;
    if (auto decrypted = e2ee_->decrypt(event)) handle_decrypted(*decrypted);
    return;
  }
  calls_.on_event(event);
}

// Only what clients encrypt counts: legacy call signals and attachments. Decrypted state or
// membership would be a member's forgery (haven sees neither encrypted).
void CareApp::handle_decrypted(const json::Value& event) {
  static const std::set<std::string, std::less<>> kLegacyCallTypes = {
      "m.call.invite", "m.call.answer", "m.call.hangup", "m.call.reject"};
  if (kLegacyCallTypes.count(json::get_string(event, "type"))) calls_.on_event(event);
  temporary_.tie_media(event);
}

void CareApp::sweep_now() {
  if (e2ee_ && !e2ee_->ready()) {
    if (auto s = e2ee_->set_up(); !s.ok()) {
      spdlog::warn("haven-care: device not set up yet: {}", s.error().message);
    }
  }
  guests_.sweep_idle();
  calls_.sweep();
  for (const std::string& room_id : temporary_.delete_due()) {
    if (e2ee_) e2ee_->forget_room(room_id);
  }
}

void CareApp::start_idle_sweeps() { run_sweep(); }

void CareApp::run_sweep() {
  worker_.run<bool>(
      loop_,
      [this] {
        sweep_now();
        return true;
      },
      [this](bool) { schedule_sweep(); });
}

// Until its device is set up (haven may start after haven-care), the next try comes sooner.
void CareApp::schedule_sweep() {
  constexpr int64_t kDeviceRetryMs = 2000;
  int64_t delay = config_.idle_check_interval_ms;
  if (e2ee_ && !e2ee_->ready()) delay = std::min(delay, kDeviceRetryMs);
  sweep_timer_ = loop_.after(delay, [this] { run_sweep(); });
}

}  // namespace haven::care
