#include "homeserver/email/settings.h"

#include "homeserver/sync/streams.h"

namespace haven::email {

namespace {
constexpr const char* kField = "email_frequency";
}  // namespace

std::optional<Frequency> parse_frequency(std::string_view name) {
  if (name == "immediate") return Frequency::kImmediate;
  if (name == "hourly") return Frequency::kHourly;
  if (name == "daily") return Frequency::kDaily;
  if (name == "off") return Frequency::kOff;
  return std::nullopt;
}

const char* frequency_name(Frequency f) {
  switch (f) {
    case Frequency::kImmediate:
      return "immediate";
    case Frequency::kHourly:
      return "hourly";
    case Frequency::kDaily:
      return "daily";
    case Frequency::kOff:
      return "off";
  }
  return "immediate";
}

Status check_settings(const json::Value& content) {
  auto name = json::optional_string(content, kField);
  if (!name.ok()) return std::move(name).error();
  if (*name && !parse_frequency(**name)) {
    return Error::invalid_param(
        "email_frequency must be \"immediate\", \"hourly\", \"daily\" or \"off\"");
  }
  return {};
}

Frequency frequency_of(storage::ReadTxn& txn, std::string_view user_id) {
  auto stored = streams::get_account_data(txn, user_id, "", kSettingsType);
  if (!stored) return kDefaultFrequency;
  json::Document d = json::parse_trusted(*stored);
  if (!d.IsObject()) return kDefaultFrequency;
  return parse_frequency(json::get_string(d, kField)).value_or(kDefaultFrequency);
}

}  // namespace haven::email
