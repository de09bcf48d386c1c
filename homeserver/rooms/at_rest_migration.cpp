#include "homeserver/rooms/at_rest_migration.h"

#include <optional>
#include <string>

#include "homeserver/rooms/event_store.h"

namespace haven::rooms {

namespace {

constexpr std::string_view kSealedMarker = "at_rest_sealed";
constexpr size_t kEventsPerJob = 256;

bool already_sealed(storage::Store& store) {
  auto txn = store.begin_read();
  return txn && txn->get(storage::Table::kMeta, kSealedMarker).has_value();
}

}  // namespace

storage::Status seal_plain_rows_once(storage::Store& store, size_t* sealed) {
  if (sealed) *sealed = 0;
  if (already_sealed(store)) return {};
  std::optional<std::string> after = std::string();
  while (after) {
    SealStep step;
    auto s = store.run([&after, &step](storage::WriteTxn& txn) {
      auto r = seal_plain_events_step(txn, *after, kEventsPerJob);
      if (!r.ok()) return storage::Status::io_error(r.error().message);
      step = std::move(*r);
      return storage::Status();
    });
    if (!s.ok()) return s;
    if (sealed) *sealed += step.sealed;
    after = std::move(step.last);
  }
  return store.run(
      [](storage::WriteTxn& txn) { return txn.put(storage::Table::kMeta, kSealedMarker, "1"); });
}

}  // namespace haven::rooms
