// HTTP pushers (POST /pushers/set): where a user's devices want push notifications sent, as
// stored records. Reads through any ReadTxn (any thread); writes inside a Store job on the
// writer thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/json.h"
#include "storage/store.h"

namespace haven::push {

struct Pusher {
  std::string user_id;
  std::string app_id;
  std::string pushkey;
  int64_t pushkey_ts = 0;
  std::string kind = "http";
  std::string app_display_name;
  std::string device_display_name;
  std::string profile_tag;  // "" = none
  std::string lang;
  std::string data_json;  // the client's `data` object, url included
};

json::Document pusher_to_json(const Pusher& p);  // as GET /pushers lists it

std::vector<Pusher> pushers_of(storage::ReadTxn& txn, std::string_view user_id);
bool has_pushers(storage::ReadTxn& txn, std::string_view user_id);
// Adds or replaces the user's pusher (app_id, pushkey). Without `append`, the same pushkey of
// that app is first removed from every other user (the spec's rule).
storage::Status put_pusher(storage::WriteTxn& txn, const Pusher& pusher, bool append);
storage::Status delete_pusher(storage::WriteTxn& txn, std::string_view user_id,
                              std::string_view app_id, std::string_view pushkey);
// Every user's pusher for (app_id, pushkey): the gateway rejected the key.
storage::Status delete_pushkey(storage::WriteTxn& txn, std::string_view app_id,
                               std::string_view pushkey);

}  // namespace haven::push
