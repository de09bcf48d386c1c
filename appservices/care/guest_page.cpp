#include "appservices/care/guest_page.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace haven::care {

namespace {

constexpr std::string_view kIndex = "index.html";

// The link token is in the page's URL: never send it on in a Referer.
const std::vector<std::pair<std::string, std::string>> kCommonHeaders = {
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
};

// scheme://host[:port] of a URL, without path; the whole text when it has no "://".
std::string origin_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  auto path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path));
}

}  // namespace

std::optional<std::string_view> guest_page_content_type(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (file_name.size() > extension.size() && file_name.ends_with(extension)) return type;
  }
  return std::nullopt;
}

bool is_safe_guest_page_file(std::string_view file_name) {
  if (file_name.empty() || file_name.size() > 128 || file_name.front() == '.') return false;
  for (char c : file_name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

GuestPageFiles::GuestPageFiles(std::string dir, std::string_view homeserver_url)
    : dir_(std::move(dir)),
      content_security_policy_(
          "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
          "connect-src 'self' " +
          origin_of(homeserver_url) +
          "; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; "
          "frame-ancestors 'none'") {}

GuestPageFiles::File::File(File&& other) noexcept
    : headers(std::move(other.headers)),
      fd_(other.release()),
      size_(other.size_),
      content_type_(other.content_type_) {}

GuestPageFiles::File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Status GuestPageFiles::check() const {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(dir_) / kIndex, ec)) {
    return Error::not_found(dir_ +
                            " has no index.html: build the guest page (the haven-care "
                            "target does, with npm) or set guest_page.dir");
  }
  return Status();
}

Result<GuestPageFiles::File> GuestPageFiles::open_file(std::string_view file_name) const {
  auto type = guest_page_content_type(file_name);
  if (!is_safe_guest_page_file(file_name) || !type) return Error::not_found("No such file");
  std::string path = dir_ + "/" + std::string(file_name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::not_found("No such file");
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::not_found("No such file");
  }
  File f(fd, st.st_size, *type);
  f.headers = kCommonHeaders;
  return f;
}

Result<GuestPageFiles::File> GuestPageFiles::page() const {
  auto f = open_file(kIndex);
  if (!f.ok()) return Error::unknown("The guest page is not installed");
  f->headers.emplace_back("Content-Security-Policy", content_security_policy_);
  return f;
}

Result<GuestPageFiles::File> GuestPageFiles::asset(std::string_view file_name) const {
  return open_file(file_name);
}

std::string default_guest_page_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "web";
  return (exe.parent_path() / "web").string();
}

}  // namespace haven::care
