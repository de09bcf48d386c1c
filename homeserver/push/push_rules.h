// Push rules (spec: "Push Notifications", module push): the rule model, the server-default rule
// set, the client API's rule shapes, and each user's changes stored in kPushRules (only what
// the user changed; defaults are merged in at read time). Also what /sync needs from them: the
// m.push_rules account data event and the unread notification counts of a room.
// Values and pure functions; reads take a ReadTxn (any thread), writes a WriteTxn (writer
// thread, inside a Store job).
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::push {

// The kinds in the order they are evaluated.
enum class Kind { kOverride, kContent, kRoom, kSender, kUnderride };
constexpr std::array<Kind, 5> kAllKinds = {Kind::kOverride, Kind::kContent, Kind::kRoom,
                                           Kind::kSender, Kind::kUnderride};
std::optional<Kind> parse_kind(std::string_view name);
const char* kind_name(Kind kind);

// A non-compound canonical JSON value (event_property_is / event_property_contains).
using Scalar = std::variant<std::nullptr_t, bool, int64_t, std::string>;

struct Condition {
  std::string kind;  // event_match, event_property_is, ...; unknown kinds never match
  std::string key;
  std::string pattern;  // event_match
  std::string is;       // room_member_count
  Scalar value;         // event_property_is / event_property_contains
  // For a kind this server does not know: the condition as the client sent it, kept so that
  // reading the rule back returns it unchanged.
  std::string unknown_json;
};

struct Action {
  enum class Type { kNotify, kSetTweak };
  Type type = Type::kNotify;
  std::string tweak;       // kSetTweak: the tweak's name
  std::string value_json;  // kSetTweak: its value as JSON text; empty when absent
};

struct Rule {
  std::string rule_id;
  bool is_default = false;
  bool enabled = true;
  std::vector<Condition> conditions;  // override and underride
  std::string pattern;                // content
  std::vector<Action> actions;
};

// A user's global ruleset, each kind in priority order.
struct Ruleset {
  std::array<std::vector<Rule>, 5> kinds;
  std::vector<Rule>& of(Kind k) { return kinds[static_cast<size_t>(k)]; }
  const std::vector<Rule>& of(Kind k) const { return kinds[static_cast<size_t>(k)]; }
  // The rule `rule_id` of `kind`, or nullptr.
  const Rule* find(Kind kind, std::string_view rule_id) const;
};

// The server-default rules for `user_id`, in priority order within each kind.
Ruleset default_rules(std::string_view user_id);

// The legacy mention rules (body-text mentions) are disabled for events carrying m.mentions.
bool is_legacy_mention_rule(std::string_view rule_id);

// --- Client API shapes ---

// Parses an `actions` array from a client: M_BAD_JSON when not an array, M_INVALID_PARAM for
// an action this server does not know. The historical dont_notify and coalesce are dropped.
Result<std::vector<Action>> parse_actions(const rapidjson::Value& actions);
// Parses the body of PUT /pushrules/global/{kind}/{ruleId} into a new, enabled user rule.
Result<Rule> parse_rule_body(Kind kind, std::string_view rule_id, const rapidjson::Value& body);
// Checks a rule id a client wants to create: not server-default, no slashes; room rules name
// a room, sender rules a user. M_INVALID_PARAM otherwise.
Status check_new_rule_id(Kind kind, std::string_view rule_id);

rapidjson::Value rule_to_json(Kind kind, const Rule& rule, rapidjson::Document::AllocatorType& a);
rapidjson::Value actions_to_json(const std::vector<Action>& actions,
                                 rapidjson::Document::AllocatorType& a);
// {"override": [...], "content": [...], "room": [...], "sender": [...], "underride": [...]}
rapidjson::Document ruleset_to_json(const Ruleset& rules);

// --- Stored rules ---

// The user's rules: their own rules before the defaults of each kind (except .m.rule.master,
// which always comes first), with their enabled/actions changes to defaults applied.
Ruleset load_rules(storage::ReadTxn& txn, std::string_view user_id);

// Where a new or moved rule goes: next to another user rule.
struct Position {
  std::optional<std::string> before;
  std::optional<std::string> after;
};
// Creates or replaces a user rule (check_new_rule_id first). A replaced rule keeps its place
// unless `where` names one; a new rule without `where` becomes the most important user rule.
// 400 M_UNKNOWN when before/after names no user rule of the kind.
Status put_rule(storage::WriteTxn& txn, std::string_view user_id, Kind kind, Rule rule,
                const Position& where);
// M_NOT_FOUND for unknown rules; M_INVALID_PARAM for server-default rules.
Status delete_rule(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                   std::string_view rule_id);
// Both work on server-default rules too. M_NOT_FOUND for unknown rules.
Status set_rule_enabled(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                        std::string_view rule_id, bool enabled);
Status set_rule_actions(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                        std::string_view rule_id, std::vector<Action> actions);

// --- What /sync needs ---

// {"type": "m.push_rules", "content": {"global": <ruleset>}}
rapidjson::Document push_rules_account_data(storage::ReadTxn& txn, std::string_view user_id);

struct UnreadCounts {
  int64_t notification_count = 0;
  int64_t highlight_count = 0;
};
// Counts the room's events after stream position `after_event_pos` (the user's read receipt,
// or 0) that the user's rules notify (and highlight) for. The user's own and redacted events
// never count; nothing before the start of their membership counts. At most kMaxUnreadScan of the newest events are looked
// at. `*reset` (optional) tells whether the scan stopped at such a reset point rather than at
// after_event_pos.
constexpr int kMaxUnreadScan = 1000;
// What the caller may know already: the user's rules, the room's joined member count.
struct UnreadInputs {
  const Ruleset* rules = nullptr;
  std::optional<int64_t> joined_members;
};
UnreadCounts unread_counts(storage::ReadTxn& txn, std::string_view room_id,
                           std::string_view user_id, uint64_t after_event_pos,
                           bool* reset = nullptr, const UnreadInputs& known = {});

// The number of joined members of the room.
int64_t joined_member_count(storage::ReadTxn& txn, std::string_view room_id);

// Unread counts kept between syncs, so a woken /sync evaluates only the events that are new
// since the last time instead of rescanning the room. Loop thread only.
class UnreadCache {
 public:
  UnreadCounts get(storage::ReadTxn& txn, const std::string& room_id, const std::string& user_id,
                   uint64_t read_pos, uint64_t room_last_pos);
  // The user's push rules changed: their counts (and rules) must be computed afresh.
  void forget_user(const std::string& user_id);

 private:
  struct Entry {
    uint64_t read_pos = 0;
    uint64_t upto_pos = 0;
    UnreadCounts counts;
  };
  const Ruleset& rules_of(storage::ReadTxn& txn, const std::string& user_id);

  std::map<std::pair<std::string, std::string>, Entry> entries_;  // (user, room)
  // Each user's parsed rules, so a new event costs one evaluation per member, not a parse.
  std::map<std::string, Ruleset> rules_;
  // Each room's joined member count as of its newest event position: computed once for all
  // the members whose counts a new event changes.
  std::map<std::string, std::pair<uint64_t, int64_t>> members_;
};

}  // namespace haven::push
