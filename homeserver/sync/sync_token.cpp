#include "homeserver/sync/sync_token.h"

#include <charconv>
#include <vector>

namespace haven {

std::string SyncToken::to_string() const {
  return "s" + std::to_string(events) + "_" + std::to_string(account_data) + "_" +
         std::to_string(receipts) + "_" + std::to_string(typing) + "_" +
         std::to_string(to_device) + "_" + std::to_string(device_lists) + "_" +
         std::to_string(presence);
}

namespace {
std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<SyncToken> SyncToken::parse(std::string_view text) {
  if (text.size() < 2 || text[0] != 's') return std::nullopt;
  std::vector<uint64_t> parts;
  std::string_view rest = text.substr(1);
  while (true) {
    auto us = rest.find('_');
    auto v = parse_u64(rest.substr(0, us));
    if (!v) return std::nullopt;
    parts.push_back(*v);
    if (us == std::string_view::npos) break;
    rest = rest.substr(us + 1);
  }
  parts.resize(7, 0);  // older, shorter tokens: missing streams start from 0
  return SyncToken{parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]};
}

std::string topological_token(uint64_t pos) { return "t" + std::to_string(pos); }

std::optional<uint64_t> parse_pagination_token(std::string_view text) {
  if (!text.empty() && text[0] == 't') return parse_u64(text.substr(1));
  // A sliding sync pos: the sync token, then '~' and its connection state (sliding_connections.h).
  if (auto tilde = text.find('~'); tilde != std::string_view::npos) text = text.substr(0, tilde);
  if (auto sync = SyncToken::parse(text); sync) return sync->events;
  return std::nullopt;
}

}  // namespace haven
