#include "homeserver/http/router.h"

namespace haven::http {

namespace {
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{'; }
bool is_rest_param(std::string_view seg) { return seg.size() > 3 && seg.substr(0, 2) == "{+"; }
}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Router::add(std::string method, std::string path_template, Handler handler) {
  Route r{std::move(method), std::move(path_template), {}, std::move(handler)};
  for (auto seg : split_path(r.path_template)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

void Router::add_upload(std::string method, std::string path_template, Handler handler) {
  add(std::move(method), std::move(path_template), std::move(handler));
  routes_.back().upload = true;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  auto segs = split_path(path);
  // Clients older than Matrix 1.1 (matrix-nio among them) still call /_matrix/client/r0/...:
  // the same operations as v3, as Synapse serves them too.
  if (segs.size() > 2 && segs[0] == "_matrix" && segs[1] == "client" && segs[2] == "r0") {
    segs[2] = "v3";
  }
  for (const Route& r : routes_) {
    std::vector<std::string> params;
    bool ok = true;
    size_t i = 0;
    for (; i < r.segments.size() && ok; ++i) {
      const std::string& t = r.segments[i];
      if (is_rest_param(t)) {
        if (i >= segs.size()) { ok = false; break; }
        std::string rest;
        for (size_t k = i; k < segs.size(); ++k) {
          auto d = percent_decode(segs[k]);
          if (!d) { ok = false; break; }
          rest += (k > i ? "/" : "") + *d;
        }
        params.push_back(std::move(rest));
        i = segs.size();
        break;
      }
      if (i >= segs.size()) { ok = false; break; }
      if (is_param(t)) {
        auto d = percent_decode(segs[i]);
        if (!d || d->empty()) ok = false;
        else params.push_back(std::move(*d));
      } else if (t != segs[i]) {
        ok = false;
      }
    }
    if (!ok || (i != segs.size() && !(r.segments.size() && is_rest_param(r.segments.back()))))
      continue;
    if (i < segs.size()) continue;
    m.path_known = true;
    m.allowed_methods.push_back(r.method);
    if (r.method == method && !m.handler) {
      m.handler = &r.handler;
      m.path_template = &r.path_template;
      m.params = std::move(params);
      m.upload = r.upload;
    }
  }
  return m;
}

}  // namespace haven::http
