// Client-Server API: the user directory search. It shows the searcher themself and the users
// who share a joined room with them, nobody else; under the care rules, their contacts only.
#include <algorithm>
#include <set>
#include <tuple>

#include "homeserver/accounts/account_store.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"

namespace haven::client {

namespace {

constexpr int64_t kDefaultLimit = 10;
constexpr int64_t kMaxLimit = 100;

struct Entry {
  std::string user_id;
  std::string display_name;
  std::string avatar_url;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The profile the directory shows: the account's for local users, otherwise what their
// m.room.member event in a shared room says. nullopt for deactivated accounts.
std::optional<Entry> entry_for(ServerContext& ctx, storage::ReadTxn& txn,
                               const std::string& searcher, const std::string& user_id) {
  Entry e{user_id, {}, {}};
  if (rooms::server_name_of(user_id) == ctx.server_name) {
    auto u = accounts::get_user(txn, user_id);
    if (!u || u->deactivated) return std::nullopt;
    e.display_name = u->displayname;
    e.avatar_url = u->avatar_url;
    return e;
  }
  for (auto& [room_id, m] : rooms::rooms_of_user(txn, searcher)) {
    if (m.membership != "join") continue;
    auto member = rooms::current_state_event(txn, room_id, "m.room.member", user_id);
    if (!member || member->membership() != "join") continue;
    e.display_name = json::get_string(member->content(), "displayname");
    e.avatar_url = json::get_string(member->content(), "avatar_url");
    break;
  }
  return e;
}

// POST /_matrix/client/v3/user_directory/search
void search_user_directory(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto term = json::required_string(*body, "search_term");
  if (!term.ok()) return ex->reply_error(term.error());
  auto limit_in = json::optional_int(*body, "limit");
  if (!limit_in.ok()) return ex->reply_error(limit_in.error());
  int64_t limit = std::clamp<int64_t>(limit_in->value_or(kDefaultLimit), 0, kMaxLimit);
  std::string needle = lower(*term);

  // (rank, no display name, user id): names that start with the term first, then those
  // with profile information.
  std::vector<std::tuple<int, bool, Entry>> found;
  auto txn = ctx.store->begin_read();
  std::set<std::string> candidates;
  if (ctx.care) {
    for (auto& user_id : ctx.care->contacts_of(*txn, who.user_id)) candidates.insert(user_id);
    candidates.insert(who.user_id);
  } else {
    candidates = rooms::users_sharing_rooms(*txn, who.user_id);
  }
  for (const std::string& user_id : candidates) {
    auto e = entry_for(ctx, *txn, who.user_id, user_id);
    if (!e) continue;
    std::string id = lower(user_id), name = lower(e->display_name);
    size_t in_id = id.find(needle), in_name = name.find(needle);
    if (in_id == std::string::npos && in_name == std::string::npos) continue;
    int rank = (in_id == 1 || in_name == 0) ? 0 : 1;
    found.emplace_back(rank, e->display_name.empty(), std::move(*e));
  }
  std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
    return std::tie(std::get<0>(x), std::get<1>(x), std::get<2>(x).user_id) <
           std::tie(std::get<0>(y), std::get<1>(y), std::get<2>(y).user_id);
  });

  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value results(rapidjson::kArrayType);
  for (size_t i = 0; i < found.size() && static_cast<int64_t>(i) < limit; ++i) {
    const Entry& e = std::get<2>(found[i]);
    json::Value r(rapidjson::kObjectType);
    json::set(r, "user_id", e.user_id, a);
    if (!e.display_name.empty()) json::set(r, "display_name", e.display_name, a);
    if (!e.avatar_url.empty()) json::set(r, "avatar_url", e.avatar_url, a);
    results.PushBack(std::move(r), a);
  }
  json::set(d, "results", std::move(results), a);
  json::set(d, "limited", static_cast<int64_t>(found.size()) > limit, a);
  ex->reply_json(200, d);
}

}  // namespace

void register_directory_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", v3("/user_directory/search"),
             [&ctx](auto& ex, auto& who) { search_user_directory(ctx, ex, who); });
}

}  // namespace haven::client
