// haven_bench: a load generator for Haven's Client-Server API that prints one Markdown table
// (bench/README.md says what each figure means). Single-threaded: main() drives every request
// through one libcurl multi handle. It measures; it never passes or fails on a figure.
//
// Usage: haven_bench --url http://127.0.0.1:PORT [--pid PID] [--data-dir DIR] [options]
// bench/run.sh builds Haven, starts a fresh server and runs this against it.

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crypto/base64.h"
#include "crypto/ed25519.h"
#include "crypto/json_signing.h"
#include "crypto/random.h"

namespace haven::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

Clock::time_point after_seconds(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// ---- Options -------------------------------------------------------------------------------

struct Options {
  std::string url;              // http://127.0.0.1:PORT
  long pid = 0;                 // the server's pid, for RSS; 0 = not measured
  std::string data_dir;         // the server's data_dir, for bytes on disk; "" = not measured
  int warmup_sends = 50;        // unmeasured sends before the first figure
  int sequential_sends = 2000;  // one client, one request at a time
  int clients = 16;             // concurrent senders
  int sends_per_client = 500;   // per concurrent sender and per layout (one room / own rooms)
  int receivers = 100;          // long-polling /sync receivers
  int messages = 200;           // messages whose delivery to every receiver is timed
  int sync_rooms = 100;         // rooms of the initial-sync user
  int sync_events = 1000;       // messages per room of the initial-sync user
  int initial_syncs = 3;        // initial syncs timed; the median is reported
  int media_small = 50;         // 1 MiB files uploaded, then downloaded, one at a time
  int media_large = 3;          // 50 MiB files uploaded, then downloaded, one at a time
  int media_concurrent = 10;    // 50 MiB uploads in flight at once for the peak RSS
  int sliding_rooms = 1000;     // rooms of the sliding sync user
  int sliding_rounds = 100;     // timed sliding sync requests of each kind
  double phase_seconds = 60;    // time limit of each measured phase
  double setup_seconds = 900;   // time limit of each setup step (registration, filling rooms)
};

[[noreturn]] void usage(const std::string& problem) {
  std::ostream& out = problem.empty() ? std::cout : std::cerr;
  if (!problem.empty()) out << "haven_bench: " << problem << "\n";
  out << "usage: haven_bench --url http://127.0.0.1:PORT [--pid PID] [--data-dir DIR]\n"
      << "  [--warmup-sends N] [--sequential-sends N] [--clients N]\n"
      << "  [--sends-per-client N] [--receivers N] [--messages N] [--sync-rooms N]\n"
      << "  [--sync-events N] [--initial-syncs N] [--sliding-rooms N]\n"
      << "  [--sliding-rounds N] [--phase-seconds S]\n"
      << "  [--setup-seconds S] [--media-small N] [--media-large N]\n"
      << "  [--media-concurrent N]\n"
      << "Prints one Markdown table of figures on stdout; see bench/README.md.\n";
  std::exit(problem.empty() ? 0 : 2);
}

// Loopback only: this tool makes thousands of requests a second and must never aim them
// at another machine by mistake.
bool is_loopback_url(const std::string& url) {
  for (const char* prefix : {"http://127.0.0.1:", "http://localhost:", "http://[::1]:"}) {
    if (url.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::map<std::string, int*> ints = {
      {"--warmup-sends", &o.warmup_sends},
      {"--sequential-sends", &o.sequential_sends},
      {"--clients", &o.clients},
      {"--sends-per-client", &o.sends_per_client},
      {"--receivers", &o.receivers},
      {"--messages", &o.messages},
      {"--sync-rooms", &o.sync_rooms},
      {"--sync-events", &o.sync_events},
      {"--initial-syncs", &o.initial_syncs},
      {"--media-small", &o.media_small},
      {"--media-large", &o.media_large},
      {"--media-concurrent", &o.media_concurrent},
      {"--sliding-rooms", &o.sliding_rooms},
      {"--sliding-rounds", &o.sliding_rounds},
  };
  std::map<std::string, double*> doubles = {{"--phase-seconds", &o.phase_seconds},
                                            {"--setup-seconds", &o.setup_seconds}};
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key == "--help" || key == "-h") usage("");
    if (i + 1 >= argc) usage("missing value after " + key);
    std::string value = argv[++i];
    char* end = nullptr;
    if (key == "--url") {
      o.url = value;
      while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
    } else if (key == "--pid") {
      o.pid = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || o.pid < 0) usage("bad --pid " + value);
    } else if (key == "--data-dir") {
      o.data_dir = value;
    } else if (auto it = ints.find(key); it != ints.end()) {
      long v = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v > 10'000'000) usage("bad " + key + " " + value);
      *it->second = static_cast<int>(v);
    } else if (auto dt = doubles.find(key); dt != doubles.end()) {
      double v = std::strtod(value.c_str(), &end);
      if (*end != '\0' || !(v > 0) || v > 86400) usage("bad " + key + " " + value);
      *dt->second = v;
    } else {
      usage("unknown option " + key);
    }
  }
  if (o.url.empty()) usage("--url is required");
  if (!is_loopback_url(o.url)) usage("--url must be http://127.0.0.1:PORT (loopback only)");
  if (o.clients < 1) usage("--clients must be at least 1");
  return o;
}

// ---- libcurl ownership ---------------------------------------------------------------------

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

class CurlGlobal {
 public:
  CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

// ---- The request loop ----------------------------------------------------------------------

struct Response {
  long status = 0;  // HTTP status; 0 when the transfer failed
  CURLcode curl = CURLE_OK;
  std::string body;
  Clock::time_point started;   // when the request was handed to libcurl
  Clock::time_point finished;  // when libcurl reported it complete (before any parsing)

  bool ok() const { return curl == CURLE_OK && status >= 200 && status < 300; }
  double ms() const { return ms_between(started, finished); }
  std::string describe() const {
    if (curl != CURLE_OK) return std::string("curl: ") + curl_easy_strerror(curl);
    return "HTTP " + std::to_string(status) + " " + body.substr(0, 300);
  }
};

using Callback = std::function<void(Response&)>;

// Every request of the program goes through one HttpLoop. Callbacks run inside run_until()
// and may start further requests.
class HttpLoop {
 public:
  explicit HttpLoop(std::string base_url)
      : base_url_(std::move(base_url)), multi_(curl_multi_init()) {
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    // Enough cached connections for every long-poll plus every sender to keep its own.
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, 1024L);
  }
  ~HttpLoop() { abort_all(); }  // every easy handle leaves the multi handle before it goes
  HttpLoop(const HttpLoop&) = delete;
  HttpLoop& operator=(const HttpLoop&) = delete;

  // Starts METHOD base_url+path. An empty token sends no Authorization header. The handle
  // returned identifies the request for cancel().
  // Bodies are JSON unless `content_type` says otherwise (media uploads).
  CURL* request(const char* method, const std::string& path, std::string body,
                const std::string& token, Callback done, long timeout_ms = 60'000,
                const char* content_type = "application/json") {
    auto t = std::make_unique<Transfer>();
    t->easy = take_handle();
    t->body = std::move(body);
    t->done = std::move(done);
    CURL* e = t->easy.get();
    t->url = base_url_ + path;
    curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpLoop::on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Expect:");
    if (!token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    std::string m = method;
    if (m == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      headers = curl_slist_append(headers, (std::string("Content-Type: ") + content_type).c_str());
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
    }
    t->headers.reset(headers);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    t->response.started = Clock::now();
    curl_multi_add_handle(multi_.get(), e);
    transfers_.emplace(e, std::move(t));
    return e;
  }

  // Drives transfers and callbacks until done() holds (true) or the deadline passes (false).
  bool run_until(const std::function<bool()>& done, Clock::time_point deadline) {
    for (;;) {
      if (done()) return true;
      if (Clock::now() >= deadline) return false;
      int running = 0;
      curl_multi_perform(multi_.get(), &running);
      // Stamp every transfer that completed in this round with the same instant, taken before
      // any callback parses anything, so a slow callback does not inflate later latencies.
      const Clock::time_point now = Clock::now();
      std::vector<std::pair<CURL*, CURLcode>> finished;
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
        if (msg->msg == CURLMSG_DONE) finished.emplace_back(msg->easy_handle, msg->data.result);
      }
      for (auto [easy, code] : finished) complete(easy, code, now);
      if (!finished.empty()) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      int wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 100));
      curl_multi_poll(multi_.get(), nullptr, 0, wait_ms, nullptr);
    }
  }

  // Waits for one request and returns its response (a failed Response at the deadline).
  Response call(const char* method, const std::string& path, std::string body,
                const std::string& token, double seconds = 120) {
    return call_with(method, path, std::move(body), token, "application/json", seconds);
  }

  // call() with a body of another content type (media uploads).
  Response call_with(const char* method, const std::string& path, std::string body,
                     const std::string& token, const char* content_type, double seconds) {
    std::optional<Response> result;
    CURL* handle = request(
        method, path, std::move(body), token, [&](Response& r) { result = std::move(r); },
        static_cast<long>(seconds * 1000), content_type);
    run_until([&] { return result.has_value(); }, after_seconds(seconds + 5));
    if (!result) {
      cancel(handle);  // its callback refers to this frame
      Response r;
      r.curl = CURLE_OPERATION_TIMEDOUT;
      return r;
    }
    return std::move(*result);
  }

  // Drops every transfer in flight without running its callback (ends long-polls).
  void abort_all() {
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_.get(), easy);
      recycle(std::move(t->easy));
    }
    transfers_.clear();
  }

  // Drops one transfer without running its callback.
  void cancel(CURL* handle) {
    auto it = transfers_.find(handle);
    if (it == transfers_.end()) return;
    curl_multi_remove_handle(multi_.get(), handle);
    recycle(std::move(it->second->easy));
    transfers_.erase(it);
  }

  size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer {
    EasyPtr easy;
    SlistPtr headers;
    std::string url;
    std::string body;
    Response response;
    Callback done;
  };

  static size_t on_data(char* data, size_t size, size_t count, void* user) {
    static_cast<Transfer*>(user)->response.body.append(data, size * count);
    return size * count;
  }

  void complete(CURL* easy, CURLcode code, Clock::time_point now) {
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_.get(), easy);
    t->response.curl = code;
    t->response.finished = now;
    if (code == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
    Callback done = std::move(t->done);
    Response response = std::move(t->response);
    recycle(std::move(t->easy));
    done(response);
  }

  // Reused handles keep their buffers; the multi handle's pool keeps the connections.
  EasyPtr take_handle() {
    if (!idle_.empty()) {
      EasyPtr e = std::move(idle_.back());
      idle_.pop_back();
      return e;
    }
    EasyPtr e(curl_easy_init());
    if (!e) throw std::runtime_error("curl_easy_init failed");
    return e;
  }

  void recycle(EasyPtr e) {
    curl_easy_reset(e.get());
    idle_.push_back(std::move(e));
  }

  std::string base_url_;
  MultiPtr multi_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<EasyPtr> idle_;
};

// ---- JSON and URL helpers ------------------------------------------------------------------

std::string percent_encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string json_of(const std::function<void(Writer&)>& body) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  body(w);
  w.EndObject();
  return buffer.GetString();
}

std::string string_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

// A message body of typical chat length, tagged with a sequence number the receivers read.
std::string message_json(int64_t seq) {
  return json_of([&](Writer& w) {
    w.Key("msgtype");
    w.String("m.text");
    w.Key("body");
    w.String("haven_bench message " + std::to_string(seq) +
             ": the quick brown fox jumps over the lazy dog");
    w.Key("haven_bench_seq");
    w.Int64(seq);
  });
}

// ---- Statistics ----------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double max_of(const std::vector<double>& v) {
  return v.empty() ? NAN : *std::max_element(v.begin(), v.end());
}

std::string fmt(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// 12345.6 -> "12,346"
std::string fmt_grouped(double value) {
  if (std::isnan(value)) return "n/a";
  std::string digits = std::to_string(static_cast<int64_t>(std::llround(value)));
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

std::string fmt_ms(double ms) {
  if (std::isnan(ms)) return "n/a";
  return fmt(ms, ms < 10 ? 2 : (ms < 100 ? 1 : 0)) + " ms";
}

std::string mean_max(const std::vector<double>& v) {
  return "mean " + fmt_ms(mean(v)) + ", max " + fmt_ms(max_of(v));
}

std::vector<double> delivered_first(const std::vector<double>& per_message) {
  std::vector<double> out;
  for (double v : per_message)
    if (!std::isnan(v)) out.push_back(v);
  return out;
}

// ---- Server-side facts ---------------------------------------------------------------------

// A "VmRSS:" style line of /proc/<pid>/status in KiB, or -1.
long proc_status_kib(long pid, const std::string& field) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return -1;
}

// User plus system CPU seconds a process has used ("self" for this one), or NAN.
double cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return NAN;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = NAN, stime = NAN;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) {
      stime = std::strtod(field.c_str(), nullptr);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU used by the server and by this program between construction and note().
class CpuMeter {
 public:
  explicit CpuMeter(long server_pid)
      : server_pid_(server_pid > 0 ? std::to_string(server_pid) : ""),
        server_(server_pid_.empty() ? NAN : cpu_seconds(server_pid_)),
        self_(cpu_seconds("self")),
        start_(Clock::now()) {}

  std::string note() const {
    double wall = ms_between(start_, Clock::now()) / 1000;
    double server = server_pid_.empty() ? NAN : cpu_seconds(server_pid_) - server_;
    return "CPU: server " + fmt(server, 1) + " s, bench " + fmt(cpu_seconds("self") - self_, 1) +
           " s in " + fmt(wall, 1) + " s";
  }

 private:
  std::string server_pid_;
  double server_, self_;
  Clock::time_point start_;
};

// Resets the peak resident set (VmHWM) of `pid` to its current RSS: "5" into
// /proc/<pid>/clear_refs (Linux 4.0+, same user). False when that is refused.
bool reset_peak_rss(long pid) {
  if (pid <= 0) return false;
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::string fmt_mib(long kib) { return kib < 0 ? "n/a" : fmt(kib / 1024.0, 1) + " MiB"; }

// What the resident set is made of: the server's own memory (RssAnon) and mapped files
// (RssFile: the binary, its libraries and LMDB's map of the database, pages the kernel can
// drop and share).
std::string rss_split(long pid) {
  long anon = proc_status_kib(pid, "RssAnon"), file = proc_status_kib(pid, "RssFile");
  if (anon < 0 || file < 0) return "";
  return "anonymous " + fmt_mib(anon) + " + file-backed (binary, libraries, LMDB map) " +
         fmt_mib(file);
}

struct DiskUse {
  int64_t allocated = -1;  // blocks actually on disk
  int64_t size = -1;       // apparent size (LMDB may size the file to its map)
};

DiskUse lmdb_disk_use(const std::string& data_dir) {
  DiskUse d;
  struct stat st {};
  if (data_dir.empty() || ::stat((data_dir + "/db/data.mdb").c_str(), &st) != 0) return d;
  d.allocated = static_cast<int64_t>(st.st_blocks) * 512;
  d.size = static_cast<int64_t>(st.st_size);
  return d;
}

// ---- Matrix actions ------------------------------------------------------------------------

struct User {
  std::string localpart;
  std::string user_id;
  std::string token;
};

// The table is built up as phases finish, so a failure late in the run still prints what
// was measured before it.
struct Row {
  std::string what, value, target, notes;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)), http_(o_.url) {}

  void run() {
    long idle_kib = proc_status_kib(o_.pid, "VmRSS");
    rows_.push_back({"Idle RSS (fresh server, no requests yet)", fmt_mib(idle_kib), "≤ 30 MiB",
                     rss_split(o_.pid)});

    progress("registering users");
    auto setup_start = Clock::now();
    sender_ = register_user("bench_sender");
    for (int i = 0; i < o_.clients; ++i)
      clients_.push_back({"bench_client" + std::to_string(i), "", ""});
    for (int i = 0; i < o_.receivers; ++i)
      receivers_.push_back({"bench_recv" + std::to_string(i), "", ""});
    register_all(clients_);
    register_all(receivers_);
    progress("registered " + std::to_string(1 + clients_.size() + receivers_.size()) +
             " users in " + fmt(ms_between(setup_start, Clock::now()) / 1000, 1) + " s");

    sequential_sends();
    concurrent_sends(/*shared_room=*/true);
    concurrent_sends(/*shared_room=*/false);
    delivery_latency();
    e2ee_keys();
    initial_sync();
    sliding_sync();

    long rss_kib = proc_status_kib(o_.pid, "VmRSS");
    long hwm_kib = proc_status_kib(o_.pid, "VmHWM");
    rows_.push_back(
        {"RSS after the load", fmt_mib(rss_kib), "",
         rss_split(o_.pid) + (hwm_kib < 0 ? "" : "; peak (VmHWM) " + fmt_mib(hwm_kib))});

    DiskUse disk = lmdb_disk_use(o_.data_dir);
    std::string per_event =
        disk.allocated < 0 || events_sent_ == 0
            ? "n/a"
            : fmt_grouped(static_cast<double>(disk.allocated) / events_sent_) + " B";
    rows_.push_back({"Bytes on disk per event", per_event, "",
                     disk.allocated < 0
                         ? "data.mdb not found"
                         : "db/data.mdb " + fmt(disk.allocated / 1048576.0, 1) +
                               " MiB on disk (apparent " + fmt(disk.size / 1048576.0, 1) +
                               " MiB) / " + fmt_grouped(events_sent_) +
                               " messages sent (room state not counted)"});

    // Last, so the VmHWM note of "RSS after the load" above is not about uploads.
    media();
  }

  void print_table() const {
    std::cout << "| Measure | Result | Target | Notes |\n|---|---|---|---|\n";
    for (const Row& r : rows_) {
      std::cout << "| " << r.what << " | " << r.value << " | " << r.target << " | " << r.notes
                << " |\n";
    }
    std::cout.flush();
  }

  void note_failure(const std::string& what) {
    rows_.push_back({"Run stopped early", "—", "", what});
  }

 private:
  static void progress(const std::string& line) {
    std::cerr << "haven_bench: " << line << std::endl;
  }

  [[noreturn]] static void fail(const std::string& what, const Response& r) {
    throw std::runtime_error(what + ": " + r.describe());
  }

  // POST /register with the m.login.dummy stage: the first call yields a session.
  void start_registration(User& u, std::function<void(bool)> done) {
    std::string first = json_of([&](Writer& w) {
      w.Key("username");
      w.String(u.localpart);
      w.Key("password");
      w.String("haven bench password " + u.localpart);
      w.Key("initial_device_display_name");
      w.String("haven_bench");
    });
    http_.request("POST", "/_matrix/client/v3/register", first, "", [this, &u, done](Response& r) {
      if (r.ok()) return finish_registration(u, r, done);
      rapidjson::Document d;
      d.Parse(r.body.c_str());
      std::string session = d.HasParseError() ? "" : string_member(d, "session");
      if (r.status != 401 || session.empty()) {
        progress("register " + u.localpart + ": " + r.describe());
        return done(false);
      }
      std::string second = json_of([&](Writer& w) {
        w.Key("username");
        w.String(u.localpart);
        w.Key("password");
        w.String("haven bench password " + u.localpart);
        w.Key("initial_device_display_name");
        w.String("haven_bench");
        w.Key("auth");
        w.StartObject();
        w.Key("type");
        w.String("m.login.dummy");
        w.Key("session");
        w.String(session);
        w.EndObject();
      });
      http_.request("POST", "/_matrix/client/v3/register", second, "",
                    [this, &u, done](Response& r2) { finish_registration(u, r2, done); });
    });
  }

  void finish_registration(User& u, Response& r, const std::function<void(bool)>& done) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (!r.ok() || d.HasParseError()) {
      progress("register " + u.localpart + ": " + r.describe());
      return done(false);
    }
    u.user_id = string_member(d, "user_id");
    u.token = string_member(d, "access_token");
    done(!u.token.empty());
  }

  User register_user(const std::string& localpart) {
    std::vector<User> one = {{localpart, "", ""}};
    register_all(one);
    return one[0];
  }

  // Registers users with a few requests in flight (password hashing is the server's cost).
  void register_all(std::vector<User>& users) {
    size_t next = 0, finished = 0, failed = 0;
    constexpr size_t kWindow = 8;
    std::function<void()> start_next = [&] {
      if (next >= users.size()) return;
      User& u = users[next++];
      start_registration(u, [&](bool ok) {
        ++finished;
        if (!ok) ++failed;
        start_next();
      });
    };
    for (size_t i = 0; i < kWindow; ++i) start_next();
    bool done =
        http_.run_until([&] { return finished == users.size(); }, after_seconds(o_.setup_seconds));
    if (!done || failed > 0) {
      http_.abort_all();
      throw std::runtime_error("registration failed for " + std::to_string(failed) + " of " +
                               std::to_string(users.size()) + " users" +
                               (done ? "" : " (time limit)"));
    }
  }

  std::string create_room(const User& u, const std::string& name, bool is_public) {
    std::string body = json_of([&](Writer& w) {
      w.Key("preset");
      w.String(is_public ? "public_chat" : "private_chat");
      w.Key("name");
      w.String(name);
    });
    Response r = http_.call("POST", "/_matrix/client/v3/createRoom", body, u.token);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    std::string room_id = d.HasParseError() ? "" : string_member(d, "room_id");
    if (!r.ok() || room_id.empty()) fail("createRoom", r);
    return room_id;
  }

  // Joins users to a public room, a few at a time.
  void join_all(std::vector<User>& users, const std::string& room_id) {
    size_t next = 0, finished = 0, failed = 0;
    std::string last_error;
    std::function<void()> start_next = [&] {
      if (next >= users.size()) return;
      const User& u = users[next++];
      http_.request("POST", "/_matrix/client/v3/join/" + percent_encode(room_id), "{}", u.token,
                    [&](Response& r) {
                      ++finished;
                      if (!r.ok()) {
                        ++failed;
                        last_error = r.describe();
                      }
                      start_next();
                    });
    };
    for (int i = 0; i < 16; ++i) start_next();
    bool done =
        http_.run_until([&] { return finished == users.size(); }, after_seconds(o_.setup_seconds));
    if (!done || failed > 0) {
      http_.abort_all();
      throw std::runtime_error("join failed for " + std::to_string(failed) +
                               " users: " + last_error);
    }
  }

  std::string send_path(const std::string& room_id, const std::string& txn) {
    return "/_matrix/client/v3/rooms/" + percent_encode(room_id) + "/send/m.room.message/" + txn;
  }

  std::string next_txn() { return "hb" + std::to_string(++txn_counter_); }

  // One client, one request at a time: latency percentiles and the rate that gives.
  void sequential_sends() {
    progress("sequential sends: " + std::to_string(o_.sequential_sends));
    std::string room = create_room(sender_, "bench sequential", false);
    for (int i = 0; i < o_.warmup_sends; ++i) {
      Response r =
          http_.call("PUT", send_path(room, next_txn()), message_json(i), sender_.token, 30);
      if (!r.ok()) fail("warm-up send", r);
      ++events_sent_;
    }
    std::vector<double> latencies;
    int errors = 0;
    CpuMeter cpu(o_.pid);
    auto start = Clock::now();
    auto deadline = after_seconds(o_.phase_seconds);
    for (int i = 0; i < o_.sequential_sends && Clock::now() < deadline; ++i) {
      Response r =
          http_.call("PUT", send_path(room, next_txn()), message_json(i), sender_.token, 30);
      if (!r.ok()) {
        if (++errors == 1) progress("send failed: " + r.describe());
        continue;
      }
      latencies.push_back(r.ms());
      ++events_sent_;
    }
    double seconds = ms_between(start, Clock::now()) / 1000;
    std::string notes = std::to_string(latencies.size()) + " sends; " + mean_max(latencies);
    if (errors) notes += "; " + std::to_string(errors) + " errors";
    if (static_cast<int>(latencies.size()) + errors < o_.sequential_sends) notes += " (time limit)";
    rows_.push_back({"Send latency p50 / p99 (1 client, sequential PUT /send)",
                     fmt_ms(percentile(latencies, 50)) + " / " + fmt_ms(percentile(latencies, 99)),
                     "", notes});
    rows_.push_back({"Send throughput, 1 client",
                     fmt_grouped(latencies.size() / seconds) + " events/s", "",
                     "same run as the latency row; " + cpu.note()});
  }

  // N clients, each with one send in flight at a time, into one shared room or each into
  // its own room.
  void concurrent_sends(bool shared_room) {
    const size_t n = clients_.size();
    progress(std::string("concurrent sends: ") + std::to_string(n) + " clients, " +
             (shared_room ? "one room" : "a room each"));
    std::vector<std::string> rooms;
    if (shared_room) {
      rooms.push_back(create_room(sender_, "bench shared", true));
      join_all(clients_, rooms[0]);
    } else {
      for (const User& u : clients_)
        rooms.push_back(create_room(u, "bench own " + u.localpart, false));
    }

    std::vector<int> sent(n, 0);
    std::vector<double> latencies;
    int errors = 0;
    std::string first_error;
    size_t active = n;
    auto deadline = after_seconds(o_.phase_seconds);
    bool stopping = false;
    std::function<void(size_t)> send_next = [&](size_t c) {
      if (stopping || sent[c] >= o_.sends_per_client) {
        --active;
        return;
      }
      const std::string& room = rooms[shared_room ? 0 : c];
      int seq = sent[c]++;
      http_.request("PUT", send_path(room, next_txn()), message_json(seq), clients_[c].token,
                    [&, c](Response& r) {
                      if (r.ok()) {
                        latencies.push_back(r.ms());
                        ++events_sent_;
                      } else if (++errors == 1) {
                        first_error = r.describe();
                      }
                      send_next(c);
                    });
    };
    CpuMeter cpu(o_.pid);
    auto start = Clock::now();
    for (size_t c = 0; c < n; ++c) send_next(c);
    bool done = http_.run_until([&] { return active == 0; }, deadline);
    auto end = Clock::now();
    if (!done) {
      stopping = true;  // let the requests in flight finish, start no more
      http_.run_until([&] { return active == 0; }, after_seconds(30));
      http_.abort_all();
    }
    double seconds = ms_between(start, end) / 1000;
    std::string notes = std::to_string(latencies.size()) + " sends; per-send p50 / p99 " +
                        fmt_ms(percentile(latencies, 50)) + " / " +
                        fmt_ms(percentile(latencies, 99)) + ", " + mean_max(latencies);
    if (errors)
      notes += "; " + std::to_string(errors) + " errors, first: " + first_error.substr(0, 120);
    if (!done) notes += " (time limit)";
    notes += "; " + cpu.note();
    rows_.push_back({"Send throughput, " + std::to_string(n) + " concurrent clients, " +
                         (shared_room ? "one shared room" : "a room each"),
                     fmt_grouped(latencies.size() / seconds) + " events/s", "≥ 5,000 events/s",
                     notes});
  }

  // The time from a send's start until each long-polling receiver has the event.
  void delivery_latency() {
    const size_t n = receivers_.size();
    progress("delivery: " + std::to_string(n) + " long-polling receivers, " +
             std::to_string(o_.messages) + " messages");
    if (n == 0 || o_.messages == 0) return;
    std::string room = create_room(sender_, "bench delivery", true);
    join_all(receivers_, room);

    // An initial sync per receiver gives the token the long-polls start from.
    std::vector<std::string> since(n);
    for (size_t r = 0; r < n; ++r) {
      Response s = http_.call("GET", "/_matrix/client/v3/sync?timeout=0", "", receivers_[r].token);
      rapidjson::Document d;
      d.Parse(s.body.c_str());
      since[r] = d.HasParseError() ? "" : string_member(d, "next_batch");
      if (!s.ok() || since[r].empty()) fail("initial sync of a receiver", s);
    }

    const int m = o_.messages;
    std::vector<Clock::time_point> send_start(m);
    std::vector<int> received(m, 0);
    std::vector<std::vector<bool>> seen(n, std::vector<bool>(m, false));
    std::vector<double> latencies;
    latencies.reserve(n * m);
    std::vector<double> first_delivery(m, NAN);  // per message, its fastest receiver
    std::vector<double> send_ms;                 // the sends' own latencies
    int sync_errors = 0;
    std::string first_error;
    bool polling = true;
    constexpr long kPollTimeoutMs = 30'000;

    std::function<void(size_t)> poll = [&](size_t r) {
      std::string path = "/_matrix/client/v3/sync?timeout=" + std::to_string(kPollTimeoutMs) +
                         "&since=" + percent_encode(since[r]);
      http_.request(
          "GET", path, "", receivers_[r].token,
          [&, r](Response& resp) {
            if (!polling) return;
            rapidjson::Document d;
            d.Parse(resp.body.c_str());
            std::string next = d.HasParseError() ? "" : string_member(d, "next_batch");
            if (!resp.ok() || next.empty()) {
              if (++sync_errors == 1) first_error = resp.describe();
              if (sync_errors > 1000) return;  // the server is failing: stop hammering it
              return poll(r);
            }
            since[r] = next;
            const rapidjson::Value* events = nullptr;
            if (auto* rooms = member(d, "rooms"))
              if (auto* join = member(*rooms, "join"))
                if (auto* rm = member(*join, room.c_str()))
                  if (auto* timeline = member(*rm, "timeline"))
                    events = member(*timeline, "events");
            if (events && events->IsArray()) {
              for (const auto& ev : events->GetArray()) {
                const rapidjson::Value* content = member(ev, "content");
                const rapidjson::Value* seq =
                    content ? member(*content, "haven_bench_seq") : nullptr;
                if (!seq || !seq->IsInt64()) continue;
                int64_t s = seq->GetInt64();
                if (s < 0 || s >= m || seen[r][s]) continue;
                seen[r][s] = true;
                ++received[s];
                double ms = ms_between(send_start[s], resp.finished);
                latencies.push_back(ms);
                if (!(first_delivery[s] <= ms)) first_delivery[s] = ms;
              }
            }
            poll(r);
          },
          kPollTimeoutMs + 10'000);
    };
    for (size_t r = 0; r < n; ++r) poll(r);
    // Let every long-poll reach the server and park before the first message.
    http_.run_until([] { return false; }, after_seconds(0.5));

    int send_errors = 0, undelivered = 0, sent_count = 0;
    CpuMeter cpu(o_.pid);
    auto deadline = after_seconds(o_.phase_seconds);
    for (int i = 0; i < m && Clock::now() < deadline; ++i) {
      bool send_done = false;
      send_start[i] = Clock::now();
      http_.request("PUT", send_path(room, next_txn()), message_json(i), sender_.token,
                    [&](Response& r) {
                      send_done = true;
                      if (r.ok()) {
                        ++events_sent_;
                        send_ms.push_back(r.ms());
                      } else if (++send_errors == 1) {
                        progress("delivery send failed: " + r.describe());
                      }
                    });
      ++sent_count;
      // Each message gets its full 5 s even at the phase's end, so a slow delivery is
      // counted as one rather than cut off.
      http_.run_until([&] { return send_done && received[i] == static_cast<int>(n); },
                      after_seconds(5));
      undelivered += static_cast<int>(n) - received[i];
      // A short pause so the receivers' next long-polls are parked again, as between real
      // messages.
      http_.run_until([] { return false; }, after_seconds(0.01));
    }
    polling = false;
    http_.abort_all();

    std::string notes = std::to_string(sent_count) + " messages × " + std::to_string(n) +
                        " receivers = " + fmt_grouped(latencies.size()) + " deliveries; " +
                        mean_max(latencies) + "; fastest receiver per message p50 " +
                        fmt_ms(percentile(delivered_first(first_delivery), 50)) +
                        "; the sends' own p50 " + fmt_ms(percentile(send_ms, 50));
    if (undelivered) notes += "; " + std::to_string(undelivered) + " not delivered within 5 s";
    if (send_errors) notes += "; " + std::to_string(send_errors) + " send errors";
    if (sync_errors)
      notes +=
          "; " + std::to_string(sync_errors) + " sync errors, first: " + first_error.substr(0, 120);
    if (sent_count < m) notes += " (time limit)";
    notes += "; " + cpu.note();
    rows_.push_back({"Send-to-sync delivery latency p50 / p99 (" + std::to_string(n) +
                         " long-polling receivers)",
                     fmt_ms(percentile(latencies, 50)) + " / " + fmt_ms(percentile(latencies, 99)),
                     "p99 ≤ 10 ms", notes});
  }

  // One device's keys as a client uploads them: signed device keys and `otks` signed one-time
  // keys (the server checks every signature).
  static std::string key_upload_json(const User& u, const std::string& device_id, int otks) {
    crypto::SigningKey key = crypto::SigningKey::generate(device_id);
    rapidjson::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    auto str = [&](const std::string& v) { return rapidjson::Value(v.c_str(), a); };
    rapidjson::Value dk(rapidjson::kObjectType), algorithms(rapidjson::kArrayType),
        keys(rapidjson::kObjectType);
    dk.AddMember("user_id", str(u.user_id), a);
    dk.AddMember("device_id", str(device_id), a);
    algorithms.PushBack("m.olm.v1.curve25519-aes-sha2", a).PushBack("m.megolm.v1.aes-sha2", a);
    dk.AddMember("algorithms", algorithms, a);
    keys.AddMember(str("curve25519:" + device_id),
                   str(crypto::base64_encode(crypto::random_bytes(32))), a);
    keys.AddMember(str("ed25519:" + device_id), str(crypto::base64_encode(key.public_key())), a);
    dk.AddMember("keys", keys, a);
    crypto::sign_json(dk, a, u.user_id, key);
    rapidjson::Value otk_map(rapidjson::kObjectType);
    for (int i = 0; i < otks; ++i) {
      rapidjson::Value otk(rapidjson::kObjectType);
      otk.AddMember("key", str(crypto::base64_encode(crypto::random_bytes(32))), a);
      crypto::sign_json(otk, a, u.user_id, key);
      otk_map.AddMember(str("signed_curve25519:K" + std::to_string(i)), otk, a);
    }
    d.AddMember("device_keys", dk, a);
    d.AddMember("one_time_keys", otk_map, a);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    d.Accept(w);
    return buffer.GetString();
  }

  // Logs `u` in once more: a new device with its own token. {device_id, token}.
  std::pair<std::string, std::string> login_device(const User& u) {
    std::string body = json_of([&](Writer& w) {
      w.Key("type");
      w.String("m.login.password");
      w.Key("identifier");
      w.StartObject();
      w.Key("type");
      w.String("m.id.user");
      w.Key("user");
      w.String(u.localpart);
      w.EndObject();
      w.Key("password");
      w.String("haven bench password " + u.localpart);
    });
    Response r = http_.call("POST", "/_matrix/client/v3/login", body, "");
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (!r.ok() || d.HasParseError()) fail("login", r);
    return {string_member(d, "device_id"), string_member(d, "access_token")};
  }

  // Times `rounds` calls of one request; p50 / p99 in ms.
  std::vector<double> time_calls(int rounds, const char* method,
                                 const std::function<std::string(int)>& path,
                                 const std::function<std::string(int)>& body,
                                 const std::string& token) {
    std::vector<double> ms;
    for (int i = 0; i < rounds; ++i) {
      Response r = http_.call(method, path(i), body(i), token, 60);
      if (!r.ok()) fail(std::string(method) + " " + path(i), r);
      ms.push_back(r.ms());
    }
    return ms;
  }

  // Issue 3's figures: /keys/query and /keys/claim for every member of a room of the receivers
  // with 3 devices each, and a to-device message to all of those devices ("*").
  void e2ee_keys() {
    constexpr int kDevicesPerUser = 3, kOtksPerDevice = 10, kRounds = 10;
    if (receivers_.empty()) return;
    progress("e2ee: " + std::to_string(receivers_.size()) + " users × " +
             std::to_string(kDevicesPerUser) + " devices uploading keys");
    std::vector<std::string> device_ids;  // per receiver: first device id (from whoami)
    int devices = 0;
    for (const User& u : receivers_) {
      Response who = http_.call("GET", "/_matrix/client/v3/account/whoami", "", u.token);
      rapidjson::Document d;
      d.Parse(who.body.c_str());
      if (!who.ok() || d.HasParseError()) fail("whoami", who);
      std::vector<std::pair<std::string, std::string>> own = {{string_member(d, "device_id"),
                                                               u.token}};
      for (int i = 1; i < kDevicesPerUser; ++i) own.push_back(login_device(u));
      for (auto& [device_id, token] : own) {
        Response up = http_.call("POST", "/_matrix/client/v3/keys/upload",
                                 key_upload_json(u, device_id, kOtksPerDevice), token);
        if (!up.ok()) fail("keys/upload", up);
        ++devices;
      }
    }
    std::string query = json_of([&](Writer& w) {
      w.Key("device_keys");
      w.StartObject();
      for (const User& u : receivers_) {
        w.Key(u.user_id.c_str());
        w.StartArray();
        w.EndArray();
      }
      w.EndObject();
    });
    auto q = time_calls(kRounds, "POST", [](int) { return "/_matrix/client/v3/keys/query"; },
                        [&](int) { return query; }, sender_.token);
    std::string users = std::to_string(receivers_.size()) + " users, " + std::to_string(devices) +
                        " devices";
    rows_.push_back({"/keys/query for a room of " + users,
                     fmt_ms(percentile(q, 50)) + " / " + fmt_ms(percentile(q, 99)), "",
                     "p50 / p99 of " + std::to_string(kRounds) + " queries; " + mean_max(q)});
    // A claim names each device: their ids come from one query per user.
    std::string claim = json_of([&](Writer& w) {
      w.Key("one_time_keys");
      w.StartObject();
      for (const User& u : receivers_) {
        w.Key(u.user_id.c_str());
        w.StartObject();
        Response r = http_.call("POST", "/_matrix/client/v3/keys/query",
                                "{\"device_keys\":{\"" + u.user_id + "\":[]}}", sender_.token);
        rapidjson::Document d;
        d.Parse(r.body.c_str());
        if (auto* dk = d.HasParseError() ? nullptr : member(d, "device_keys"))
          if (auto* mine = member(*dk, u.user_id.c_str()); mine && mine->IsObject())
            for (auto& dev : mine->GetObject()) {
              w.Key(dev.name.GetString());
              w.String("signed_curve25519");
            }
        w.EndObject();
      }
      w.EndObject();
    });
    auto c = time_calls(kRounds, "POST", [](int) { return "/_matrix/client/v3/keys/claim"; },
                        [&](int) { return claim; }, sender_.token);
    rows_.push_back({"/keys/claim of one key per device for " + users,
                     fmt_ms(percentile(c, 50)) + " / " + fmt_ms(percentile(c, 99)), "",
                     "p50 / p99 of " + std::to_string(kRounds) +
                         " claims (each takes a one-time key of every device); " + mean_max(c)});
    std::string fan_out = json_of([&](Writer& w) {
      w.Key("messages");
      w.StartObject();
      for (const User& u : receivers_) {
        w.Key(u.user_id.c_str());
        w.StartObject();
        w.Key("*");
        w.StartObject();
        w.Key("algorithm");
        w.String("m.olm.v1.curve25519-aes-sha2");
        w.Key("ciphertext");
        w.String("bench payload");
        w.EndObject();
        w.EndObject();
      }
      w.EndObject();
    });
    auto t = time_calls(
        kRounds, "PUT",
        [&](int) { return "/_matrix/client/v3/sendToDevice/m.room.encrypted/" + next_txn(); },
        [&](int) { return fan_out; }, sender_.token);
    rows_.push_back({"To-device fan-out to " + std::to_string(devices) + " devices (\"*\")",
                     fmt_ms(percentile(t, 50)) + " / " + fmt_ms(percentile(t, 99)), "",
                     "p50 / p99 of " + std::to_string(kRounds) + " PUT /sendToDevice; " +
                         mean_max(t)});
  }

  // A user in many rooms of many events each, made through the API, then a full /sync.
  void initial_sync() {
    const int rooms_wanted = o_.sync_rooms, per_room = o_.sync_events;
    progress("initial sync: filling " + std::to_string(rooms_wanted) + " rooms × " +
             std::to_string(per_room) + " events");
    if (rooms_wanted == 0) return;
    User user = register_user("bench_syncer");
    auto setup_start = Clock::now();
    auto deadline = after_seconds(o_.setup_seconds);
    std::vector<std::string> rooms;
    for (int i = 0; i < rooms_wanted && Clock::now() < deadline; ++i) {
      rooms.push_back(create_room(user, "bench sync room " + std::to_string(i), false));
    }
    // Items go round-robin over the rooms so the requests in flight hit different rooms.
    const int64_t total = static_cast<int64_t>(rooms.size()) * per_room;
    int64_t next = 0, finished = 0, ok = 0, errors = 0;
    std::string first_error;
    std::function<void()> start_next = [&] {
      if (next >= total || Clock::now() >= deadline) return;
      int64_t item = next++;
      const std::string& room = rooms[item % static_cast<int64_t>(rooms.size())];
      http_.request("PUT", send_path(room, next_txn()), message_json(item), user.token,
                    [&](Response& r) {
                      ++finished;
                      if (r.ok()) {
                        ++ok;
                        ++events_sent_;
                      } else if (++errors == 1) {
                        first_error = r.describe();
                      }
                      if (finished % 10'000 == 0)
                        progress("  " + std::to_string(finished) + " events sent");
                      start_next();
                    });
    };
    for (int i = 0; i < 16; ++i) start_next();
    bool done = http_.run_until(
        [&] { return finished == next && (next == total || Clock::now() >= deadline); },
        deadline + std::chrono::seconds(60));
    if (!done) http_.abort_all();
    double setup_s = ms_between(setup_start, Clock::now()) / 1000;
    progress("  filled in " + fmt(setup_s, 1) + " s; timing " + std::to_string(o_.initial_syncs) +
             " initial syncs");

    std::vector<double> times;
    size_t bytes = 0, joined = 0;
    for (int i = 0; i < o_.initial_syncs; ++i) {
      Response s = http_.call("GET", "/_matrix/client/v3/sync?timeout=0", "", user.token, 300);
      if (!s.ok()) fail("initial sync", s);
      times.push_back(s.ms());
      bytes = s.body.size();
      rapidjson::Document d;
      d.Parse(s.body.c_str());
      joined = 0;
      if (auto* rs = d.HasParseError() ? nullptr : member(d, "rooms"))
        if (auto* join = member(*rs, "join"))
          if (join->IsObject()) joined = join->MemberCount();
    }
    std::string notes = "median of " + std::to_string(times.size()) + " (first " +
                        fmt_ms(times.empty() ? NAN : times[0]) + "); " + std::to_string(joined) +
                        " rooms in the response, " + fmt(bytes / 1024.0, 0) +
                        " KiB; setup: " + std::to_string(rooms.size()) + " createRoom + " +
                        fmt_grouped(ok) + " sends in " + fmt(setup_s, 0) + " s (16 in flight)";
    if (errors)
      notes += "; " + std::to_string(errors) + " send errors, first: " + first_error.substr(0, 120);
    if (ok < static_cast<int64_t>(rooms_wanted) * per_room) notes += " (setup time limit)";
    rows_.push_back({"Initial sync, user in " + std::to_string(rooms_wanted) + " rooms × " +
                         fmt_grouped(per_room) + " events",
                     fmt_ms(percentile(times, 50)), "", notes});
  }

  // ---- Media (issue 4) ----------------------------------------------------------------------

  static constexpr size_t kMiB = 1024 * 1024;
  static constexpr long kMediaTimeoutMs = 300'000;

  // `size` pseudo-random bytes, different on every call: each upload is new content, and
  // nothing on the way can compress it.
  std::string media_bytes(size_t size) {
    std::string data(size, '\0');
    uint64_t x = 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(++media_files_);
    for (size_t i = 0; i + sizeof x <= size; i += sizeof x) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(&data[i], &x, sizeof x);
    }
    return data;
  }

  // The authenticated download path of the media an upload answered with.
  static std::string download_path(const Response& upload) {
    rapidjson::Document d;
    d.Parse(upload.body.c_str());
    std::string uri = d.HasParseError() ? "" : string_member(d, "content_uri");
    const std::string scheme = "mxc://";
    size_t slash = uri.find('/', scheme.size());
    if (!upload.ok() || uri.rfind(scheme, 0) != 0 || slash == std::string::npos) {
      fail("media upload", upload);
    }
    return "/_matrix/client/v1/media/download/" +
           percent_encode(uri.substr(scheme.size(), slash - scheme.size())) + "/" +
           percent_encode(uri.substr(slash + 1));
  }

  void media() {
    if (o_.media_small > 0) media_one_at_a_time(1 * kMiB, o_.media_small, "1 MiB");
    if (o_.media_large > 0) media_one_at_a_time(50 * kMiB, o_.media_large, "50 MiB");
    if (o_.media_concurrent > 0) media_concurrent_uploads(50 * kMiB, o_.media_concurrent);
  }

  // Uploads `count` files of `size` bytes one request at a time, then downloads each once.
  // MiB/s = bytes moved / the summed request times (the bench's own data generation excluded).
  void media_one_at_a_time(size_t size, int count, const std::string& label) {
    progress("media: " + std::to_string(count) + " uploads and downloads of " + label);
    std::vector<std::string> paths;
    std::vector<double> up_ms, down_ms;
    int bad_downloads = 0;
    for (int i = 0; i < count; ++i) {
      Response r = http_.call_with("POST", "/_matrix/media/v3/upload", media_bytes(size),
                                   sender_.token, "application/octet-stream",
                                   kMediaTimeoutMs / 1000.0);
      paths.push_back(download_path(r));
      up_ms.push_back(r.ms());
    }
    for (const std::string& path : paths) {
      Response r = http_.call("GET", path, "", sender_.token, kMediaTimeoutMs / 1000.0);
      if (!r.ok()) fail("media download", r);
      if (r.body.size() != size) ++bad_downloads;
      down_ms.push_back(r.ms());
    }
    auto rate = [&](const std::vector<double>& ms) {
      double seconds = 0;
      for (double m : ms) seconds += m / 1000;
      return fmt(static_cast<double>(size) * ms.size() / kMiB / seconds, 0) + " MiB/s";
    };
    auto notes = [&](const std::vector<double>& ms, const char* what) {
      return std::to_string(ms.size()) + " " + what + "; per request p50 / p99 " +
             fmt_ms(percentile(ms, 50)) + " / " + fmt_ms(percentile(ms, 99)) + ", " +
             mean_max(ms);
    };
    rows_.push_back({"Media upload, " + label + " files (POST /upload, one at a time)",
                     rate(up_ms), "", notes(up_ms, "uploads")});
    std::string down_notes = notes(down_ms, "authenticated downloads");
    if (bad_downloads) down_notes += "; " + std::to_string(bad_downloads) + " of the wrong length";
    rows_.push_back({"Media download, " + label + " files (one at a time)", rate(down_ms), "",
                     down_notes});
  }

  // `count` uploads of `size` bytes in flight at once: the server's peak RSS while it receives
  // them, from VmHWM reset just before (so earlier phases' peaks do not count).
  void media_concurrent_uploads(size_t size, int count) {
    progress("media: " + std::to_string(count) + " concurrent uploads of " +
             std::to_string(size / kMiB) + " MiB");
    std::vector<std::string> bodies;
    for (int i = 0; i < count; ++i) bodies.push_back(media_bytes(size));
    bool reset = reset_peak_rss(o_.pid);
    long rss_before = proc_status_kib(o_.pid, "VmRSS");
    long hwm_before = proc_status_kib(o_.pid, "VmHWM");
    int finished = 0, errors = 0;
    std::string first_error;
    CpuMeter cpu(o_.pid);
    auto start = Clock::now();
    for (std::string& body : bodies) {
      http_.request(
          "POST", "/_matrix/media/v3/upload", std::move(body), sender_.token,
          [&](Response& r) {
            ++finished;
            if (!r.ok() && ++errors == 1) first_error = r.describe();
          },
          kMediaTimeoutMs, "application/octet-stream");
    }
    bool done = http_.run_until([&] { return finished == count; },
                                after_seconds(kMediaTimeoutMs / 1000.0 + 5));
    double seconds = ms_between(start, Clock::now()) / 1000;
    if (!done) http_.abort_all();
    long hwm_after = proc_status_kib(o_.pid, "VmHWM");
    long rss_after = proc_status_kib(o_.pid, "VmRSS");
    long growth = hwm_after < 0 || rss_before < 0 ? -1 : hwm_after - rss_before;
    std::string notes =
        "VmRSS before " + fmt_mib(rss_before) + ", VmHWM before " + fmt_mib(hwm_before) +
        (reset ? " (reset via clear_refs)" : " (could not reset: earlier peaks included)") +
        "; peak growth " + fmt_mib(growth) + " = " +
        (growth < 0 ? "n/a" : fmt_mib(growth / count)) + " per upload of " +
        std::to_string(size / kMiB) + " MiB; VmRSS after " + fmt_mib(rss_after) + "; " +
        std::to_string(count) + " uploads took " + fmt(seconds, 1) + " s (" +
        fmt(static_cast<double>(size) * count / kMiB / seconds, 0) + " MiB/s together); " +
        cpu.note();
    if (errors) notes += "; " + std::to_string(errors) + " errors, first: " + first_error.substr(0, 120);
    if (!done) notes += " (time limit)";
    rows_.push_back({"Server peak RSS, " + std::to_string(count) + " concurrent " +
                         std::to_string(size / kMiB) + " MiB uploads",
                     fmt_mib(hwm_after), "", notes});
  }

  // ---- sliding sync (MSC4186) ----

  static constexpr const char* kSlidingPath =
      "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

  // A request body as Element X sends it: one list over `last_index + 1` rooms, timeline_limit
  // 1, the state a room list shows, the e2ee and to_device extensions.
  static std::string sliding_body(const std::string& conn_id, int last_index) {
    return json_of([&](Writer& w) {
      w.Key("conn_id");
      w.String(conn_id);
      w.Key("lists");
      w.StartObject();
      w.Key("all");
      w.StartObject();
      w.Key("ranges");
      w.StartArray();
      w.StartArray();
      w.Int(0);
      w.Int(last_index);
      w.EndArray();
      w.EndArray();
      w.Key("timeline_limit");
      w.Int(1);
      w.Key("required_state");
      w.StartArray();
      for (auto [type, key] : {std::pair{"m.room.name", ""}, {"m.room.avatar", ""},
                               {"m.room.encryption", ""}, {"m.room.create", ""},
                               {"m.room.member", "$ME"}}) {
        w.StartArray();
        w.String(type);
        w.String(key);
        w.EndArray();
      }
      w.EndArray();
      w.EndObject();
      w.EndObject();
      w.Key("extensions");
      w.StartObject();
      for (const char* ext : {"e2ee", "to_device"}) {
        w.Key(ext);
        w.StartObject();
        w.Key("enabled");
        w.Bool(true);
        w.EndObject();
      }
      w.EndObject();
    });
  }

  // One sliding sync request; fails the run unless it answers 200. Returns the parsed body.
  rapidjson::Document sliding_call(const std::string& token, const std::string& body,
                                   const std::string& pos, double* ms, size_t* bytes = nullptr) {
    std::string path = std::string(kSlidingPath) + "?timeout=0";
    if (!pos.empty()) path += "&pos=" + percent_encode(pos);
    Response r = http_.call("POST", path, body, token, 120);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (!r.ok() || d.HasParseError()) fail("sliding sync", r);
    if (ms) *ms = r.ms();
    if (bytes) *bytes = r.body.size();
    return d;
  }

  static size_t rooms_in(const rapidjson::Document& d) {
    const rapidjson::Value* rooms = member(d, "rooms");
    return rooms && rooms->IsObject() ? rooms->MemberCount() : 0;
  }

  // Opens `count` connections of `per_device` per device (the server keeps 10 a device), each
  // over rooms [0, last_index]; RSS growth per connection in KiB.
  // Anonymous memory only: VmRSS also counts the LMDB map's pages, which reading rooms
  // touches. One unmeasured request first, so caches the rooms fill are not counted.
  double sliding_kib_per_connection(const User& user, int count, int per_device, int last_index) {
    sliding_call(user.token, sliding_body("warm-up", last_index), "", nullptr);
    long before = proc_status_kib(o_.pid, "RssAnon");
    std::string token;
    for (int i = 0; i < count; ++i) {
      if (i % per_device == 0) token = login_device(user).second;
      sliding_call(token, sliding_body("mem" + std::to_string(i), last_index), "", nullptr);
    }
    long after = proc_status_kib(o_.pid, "RssAnon");
    return before < 0 || after < 0 ? NAN : static_cast<double>(after - before) / count;
  }

  void sliding_sync() {
    const int rooms_wanted = o_.sliding_rooms, rounds = o_.sliding_rounds;
    if (rooms_wanted == 0 || rounds == 0) return;
    progress("sliding sync: creating " + std::to_string(rooms_wanted) + " rooms");
    User user = register_user("bench_slider");
    auto setup_start = Clock::now();
    auto deadline = after_seconds(o_.setup_seconds);
    std::vector<std::string> rooms;
    for (int i = 0; i < rooms_wanted && Clock::now() < deadline; ++i) {
      rooms.push_back(create_room(user, "bench sliding room " + std::to_string(i), false));
    }
    double setup_s = ms_between(setup_start, Clock::now()) / 1000;
    progress("  created in " + fmt(setup_s, 1) + " s; timing first windows and increments");

    std::vector<double> first_ms;
    size_t first_bytes = 0, first_rooms = 0;
    for (int i = 0; i < rounds; ++i) {
      double ms = 0;
      auto d = sliding_call(user.token, sliding_body("first" + std::to_string(i % 10), 19), "",
                            &ms, &first_bytes);
      first_ms.push_back(ms);
      first_rooms = rooms_in(d);
    }
    rows_.push_back({"Sliding sync first window (20 of " + fmt_grouped(rooms.size()) + " rooms)",
                     fmt_ms(percentile(first_ms, 50)) + " / " + fmt_ms(percentile(first_ms, 99)),
                     "",
                     "p50 / p99 of " + std::to_string(first_ms.size()) +
                         " fresh connections; " + std::to_string(first_rooms) + " rooms, " +
                         fmt(first_bytes / 1024.0, 1) + " KiB each; setup " +
                         fmt(setup_s, 0) + " s"});
    sliding_increments(user, rooms, rounds);

    int full_last = static_cast<int>(rooms.size()) - 1;
    double kib_window = sliding_kib_per_connection(user, 100, 10, 19);
    double kib_full = sliding_kib_per_connection(user, 50, 10, full_last);
    rows_.push_back({"Sliding sync server memory per connection", fmt(kib_window, 1) + " KiB", "",
                     "RssAnon growth over 100 connections each sent the first window of 20; " +
                         fmt(kib_full, 1) + " KiB each for 50 connections sent all " +
                         fmt_grouped(rooms.size()) + " rooms"});
  }

  // One connection: a message into a room of its window (not timed), then the incremental
  // response carrying it (timed).
  void sliding_increments(const User& user, const std::vector<std::string>& rooms, int rounds) {
    std::string body = sliding_body("incremental", 19);
    auto first = sliding_call(user.token, body, "", nullptr);
    std::string pos = string_member(first, "pos");
    std::vector<std::string> window;
    if (auto* rs = member(first, "rooms"); rs && rs->IsObject()) {
      for (auto& m : rs->GetObject()) window.emplace_back(m.name.GetString());
    }
    if (window.empty()) throw std::runtime_error("sliding sync: the first window was empty");
    std::vector<double> ms_list;
    size_t bytes = 0, missed = 0;
    for (int i = 0; i < rounds; ++i) {
      const std::string& room = window[i % window.size()];
      Response sent = http_.call("PUT", send_path(room, next_txn()), message_json(i), user.token);
      if (!sent.ok()) fail("send", sent);
      ++events_sent_;
      double ms = 0;
      auto d = sliding_call(user.token, body, pos, &ms, &bytes);
      ms_list.push_back(ms);
      pos = string_member(d, "pos");
      const rapidjson::Value* rs = member(d, "rooms");
      if (!rs || !rs->IsObject() || !rs->HasMember(room.c_str())) ++missed;
    }
    std::string notes = "p50 / p99 of " + std::to_string(ms_list.size()) +
                        " requests with timeout=0, each after one message into a room of the " +
                        "window; " + fmt(bytes / 1024.0, 1) + " KiB each";
    if (missed) notes += "; " + std::to_string(missed) + " responses lacked the room (wrong)";
    rows_.push_back({"Sliding sync incremental after one message (" +
                         fmt_grouped(rooms.size()) + " rooms)",
                     fmt_ms(percentile(ms_list, 50)) + " / " + fmt_ms(percentile(ms_list, 99)),
                     "", notes});
  }

  Options o_;
  HttpLoop http_;
  User sender_;
  std::vector<User> clients_;
  std::vector<User> receivers_;
  std::vector<Row> rows_;
  int64_t events_sent_ = 0;
  int64_t txn_counter_ = 0;
  int64_t media_files_ = 0;
};

}  // namespace
}  // namespace haven::bench

int main(int argc, char** argv) {
  using namespace haven::bench;
  Options options = parse_options(argc, argv);
  CurlGlobal curl;
  Bench bench(options);
  int status = 0;
  try {
    bench.run();
  } catch (const std::exception& e) {
    std::cerr << "haven_bench: " << e.what() << std::endl;
    bench.note_failure(e.what());
    status = 1;
  }
  bench.print_table();
  return status;
}
