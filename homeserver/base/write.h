// Running a typed unit of work on the storage writer: `write<T>(store, fn, done)` runs `fn`
// inside a Store job on the writer thread; `done` gets fn's Result once it is durable, or the
// storage error (full disk: 507 M_UNKNOWN) if the batch could not commit. `done` runs through
// the store's post function (the loop thread in haven).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven {

inline Error storage_error(const storage::Status& s) {
  if (s.is_full()) {
    return Error::with(507, "M_UNKNOWN", "The server's storage is full; nothing was saved");
  }
  return Error::unknown("Storage error: " + s.message());
}

template <typename T>
void write(storage::Store& store, std::function<Result<T>(storage::WriteTxn&)> fn,
           std::function<void(Result<T>)> done) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  store.submit(
      [fn = std::move(fn), out](storage::WriteTxn& txn) {
        out->emplace(fn(txn));
        return (*out)->ok() ? storage::Status::ok_status() : storage::Status::aborted("error");
      },
      [out, done = std::move(done)](storage::Status s) {
        if (s.code() == storage::Status::Code::kAborted && out->has_value()) {
          done(std::move(**out));
        } else if (!s.ok()) {
          done(storage_error(s));
        } else {
          done(std::move(**out));
        }
      });
}

// Shorthand for a storage call inside a job: turns a failed storage::Status into an Error.
inline Status check(const storage::Status& s) {
  if (s.ok()) return {};
  return storage_error(s);
}

}  // namespace haven
