// A user's new-message email settings: how often notices may come (account data
// `org.haven.notifications`, {"email_frequency": "immediate"|"hourly"|"daily"|"off"}, settable
// by any client and by the admin API). Pure functions plus one read; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::email {

// The account data type that holds the settings.
inline constexpr std::string_view kSettingsType = "org.haven.notifications";

enum class Frequency { kImmediate, kHourly, kDaily, kOff };
constexpr Frequency kDefaultFrequency = Frequency::kImmediate;

std::optional<Frequency> parse_frequency(std::string_view name);
const char* frequency_name(Frequency f);

// Checks content a client or admin wants to store under kSettingsType: an object whose
// "email_frequency", when present, is one of the four names (M_BAD_JSON when not a string,
// M_INVALID_PARAM for an unknown name). Other fields are the client's own business.
Status check_settings(const json::Value& content);

// The frequency stored for `user_id`, or the default when nothing (valid) is stored.
Frequency frequency_of(storage::ReadTxn& txn, std::string_view user_id);

}  // namespace haven::email
