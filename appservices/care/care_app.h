// haven-care's HTTP side: its REST API under /_haven/care/v1, the guest page, and the
// Application Service API endpoints haven calls (transactions with the hs_token). Handlers run
// on the loop thread and hand the work to one worker thread, which answers through the loop.
#pragma once

#include <memory>

#include "appservices/care/guest_page.h"
#include "appservices/care/call_service.h"
#include "appservices/care/care_e2ee.h"
#include "appservices/care/guest_service.h"
#include "appservices/care/temporary_service.h"
#include "homeserver/base/loop.h"
#include "homeserver/http/router.h"

namespace haven::care {

class CareApp {
 public:
  // `e2ee`: haven-care's device, or nullptr when its registration does not allow one.
  CareApp(const CareConfig& config, Loop& loop, Clock& clock, GuestService& guests,
          TemporaryService& temporary, CallService& calls, CareE2ee* e2ee,
          const GuestPageFiles& page_files);
  ~CareApp();
  void add_routes(http::Router& router);
  // Starts the periodic sweep: idle guests (R18), lapsed calls and due temporary conversations
  // (R22); the first runs at once, for what fell due while haven-care was down.
  void start_idle_sweeps();

 private:
  // Runs `work` on the worker and answers its result on the loop.
  void run(const http::ExchangePtr& ex, std::function<Result<json::Document>()> work);
  // Sweeps on the worker, then schedules the next sweep.
  void run_sweep();
  void schedule_sweep();
  void add_temporary_routes(http::Router& router);
  void add_guest_page_routes(http::Router& router);
  void add_call_routes(http::Router& router);
  // Everything that falls due with time, in order; on the worker.
  void sweep_now();
  // A transaction from haven, on the worker: room keys first, then the events in order.
  void handle_transaction(const json::Value& transaction);
  void handle_event(const json::Value& event);
  // An event of a temporary conversation as its sender wrote it (decrypted).
  void handle_decrypted(const json::Value& event);

  const CareConfig& config_;
  Loop& loop_;
  Clock& clock_;
  GuestService& guests_;
  TemporaryService& temporary_;
  CallService& calls_;
  CareE2ee* e2ee_;
  const GuestPageFiles& page_files_;
  WorkerPool worker_{1};
  std::unique_ptr<Loop::Timer> sweep_timer_;
};

}  // namespace haven::care
