// The /sync `since` token: one position per stream. Text form "s<events>_<account_data>_
// <receipts>_<typing>_<to_device>_<device_lists>_<presence>". Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven {

struct SyncToken {
  uint64_t events = 0;
  uint64_t account_data = 0;
  uint64_t receipts = 0;
  uint64_t typing = 0;
  uint64_t to_device = 0;
  uint64_t device_lists = 0;
  uint64_t presence = 0;

  std::string to_string() const;
  static std::optional<SyncToken> parse(std::string_view text);
};

// Pagination tokens for /messages: "t<pos>" (a position in the events stream); a /sync
// next_batch or a sliding sync pos is taken at its events position.
std::string topological_token(uint64_t pos);
std::optional<uint64_t> parse_pagination_token(std::string_view text);

}  // namespace haven
