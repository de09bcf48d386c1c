// Running a typed unit of work on the storage writer: `write<T>(store, fn, done)` runs `fn`
// inside a Store job on the writer thread; `done` gets fn's Result once it is durable, or the
// storage error (full disk: 507 M_UNKNOWN) if the batch could not commit. `done` runs through
// the store's post function (the loop thread in haven). `write_together` runs several such
// units in order in one commit.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven {

inline Error storage_error(const storage::Status& s) {
  if (s.is_full()) {
    return Error::with(507, "M_UNKNOWN", "The server's storage is full; nothing was saved");
  }
  return Error::unknown("Storage error: " + s.message());
}

// One typed unit of work for the writer: what runs in the job and who gets its Result.
template <typename T>
struct WriteStep {
  std::function<Result<T>(storage::WriteTxn&)> fn;
  std::function<void(Result<T>)> done;
};

// A step as a Store job and its done: an error from fn rolls back the step's writes only.
template <typename T>
std::pair<storage::Store::Job, storage::Store::Done> store_job(WriteStep<T> step) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  return {[fn = std::move(step.fn), out](storage::WriteTxn& txn) {
            out->emplace(fn(txn));
            return (*out)->ok() ? storage::Status::ok_status() : storage::Status::aborted("error");
          },
          [out, done = std::move(step.done)](storage::Status s) {
            if (s.code() == storage::Status::Code::kAborted && out->has_value()) {
              done(std::move(**out));
            } else if (!s.ok()) {
              done(storage_error(s));
            } else {
              done(std::move(**out));
            }
          }};
}

template <typename T>
void write(storage::Store& store, std::function<Result<T>(storage::WriteTxn&)> fn,
           std::function<void(Result<T>)> done) {
  auto [job, on_done] = store_job(WriteStep<T>{std::move(fn), std::move(done)});
  store.submit(std::move(job), std::move(on_done));
}

// Runs `steps` in order in one commit (Store::submit_together), each in its own nested
// transaction: a later step sees the writes of the earlier ones that succeeded, a failed step
// leaves nothing, and if the commit fails every step gets the storage error.
template <typename T>
void write_together(storage::Store& store, std::vector<WriteStep<T>> steps) {
  std::vector<std::pair<storage::Store::Job, storage::Store::Done>> jobs;
  jobs.reserve(steps.size());
  for (auto& step : steps) jobs.push_back(store_job(std::move(step)));
  store.submit_together(std::move(jobs));
}

// Shorthand for a storage call inside a job: turns a failed storage::Status into an Error.
inline Status check(const storage::Status& s) {
  if (s.ok()) return {};
  return storage_error(s);
}

}  // namespace haven
