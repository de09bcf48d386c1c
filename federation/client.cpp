#include "federation/client.h"

#include <spdlog/spdlog.h>

#include "federation/curl_easy.h"
#include "federation/x_matrix.h"
#include "homeserver/base/json.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxQueued = 10'000;

Error unreachable(const std::string& destination, const std::string& why) {
  return Error::with(502, "M_UNKNOWN", "Could not reach " + destination + ": " + why);
}

}  // namespace

FederationClient::FederationClient(Loop* loop, Resolver& resolver, const crypto::SigningKey& key,
                                   std::string origin, TlsPolicy tls,
                                   const ServerAllowList& allowed, int threads)
    : loop_(loop),
      resolver_(resolver),
      key_(key),
      origin_(std::move(origin)),
      tls_(std::move(tls)),
      allowed_(allowed) {
  detail::ensure_curl_initialised();
  if (loop_ == nullptr) return;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

FederationClient::~FederationClient() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cancel_ = true;
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void FederationClient::send(OutboundRequest request, Done done) {
  auto shared = std::make_shared<Done>(std::move(done));
  const bool queued = run_blocking([this, request = std::move(request), shared] {
    auto result = std::make_shared<Result<OutboundResponse>>(perform(request));
    loop_->post([shared, result] { (*shared)(std::move(*result)); });
  });
  if (!queued) {
    (*shared)(Error::with(503, "M_UNKNOWN", "Too many outbound federation requests queued"));
  }
}

bool FederationClient::run_blocking(std::function<void()> job) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= kMaxQueued || threads_.empty()) return false;
  queue_.push_back(std::move(job));
  cv_.notify_one();
  return true;
}

void FederationClient::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

Result<OutboundResponse> FederationClient::perform(const OutboundRequest& request) {
  if (!allowed_.allows(request.destination)) {
    return Error::forbidden("Federation with " + request.destination + " is not allowed");
  }
  if (!request.target.starts_with("/_matrix/")) {
    return Error::invalid_param("A federation request target starts with /_matrix/");
  }
  auto where = resolver_.resolve(request.destination);
  if (!where.ok()) return std::move(where).error();

  detail::CurlRequest curl;
  curl.url = "https://" + where->tls_name + ":" + std::to_string(where->port) + request.target;
  if (where->connect_host != where->tls_name) {
    curl.connect_to = where->tls_name + ":" + std::to_string(where->port) + ":" +
                      where->connect_host + ":" + std::to_string(where->port);
  }
  curl.method = request.method;
  curl.verify_tls = tls_.verify(request.destination);
  curl.timeout_s = request.timeout_s;
  curl.max_response_bytes = request.max_response_bytes;
  curl.cancel = &cancel_;
  curl.headers.push_back("Host: " + where->host_header);
  if (request.json_body) {
    curl.body = *request.json_body;
    curl.headers.emplace_back("Content-Type: application/json");
  } else if (request.method != "GET") {
    curl.body = "{}";  // POST and PUT always carry a JSON object
    curl.headers.emplace_back("Content-Type: application/json");
  }
  if (request.sign) {
    std::optional<json::Document> content;
    if (request.method != "GET") {
      auto parsed = json::parse_object(curl.body);
      if (!parsed.ok()) return std::move(parsed).error();
      content.emplace(std::move(*parsed));
    }
    auto header = sign_request(key_, origin_, request.destination, request.method, request.target,
                               content ? &*content : nullptr);
    if (!header) return Error::bad_json("The request body cannot be signed (not canonical JSON)");
    curl.headers.push_back("Authorization: " + *header);
  }
  detail::CurlResponse response = detail::curl_perform(curl);
  if (response.status == 0) {
    spdlog::info("federation: {} {} unreachable: {}", request.method, request.destination,
                 response.error);
    return unreachable(request.destination, response.error);
  }
  return OutboundResponse{response.status, std::move(response.body)};
}

}  // namespace haven::federation
