// The guest's web page (R15): the files of the built web client (appservices/care/web) that
// haven-care serves from guest_page.dir. Immutable after construction; any thread may read it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeserver/base/result.h"

namespace haven::care {

// The MIME type haven-care serves a file of the guest page with, by its extension; nullopt
// for any other kind of file, which is then not served.
std::optional<std::string_view> guest_page_content_type(std::string_view file_name);

// A plain file name: letters, digits, '.', '_' and '-', not starting with '.', at most 128
// bytes; so no path separators and no "..".
bool is_safe_guest_page_file(std::string_view file_name);

class GuestPageFiles {
 public:
  // `dir` holds the build output (index.html, guest.js, guest.css, the crypto .wasm).
  // `homeserver_url` is where the page's Matrix client connects (the page's CSP allows it).
  GuestPageFiles(std::string dir, std::string_view homeserver_url);

  // Start-up check: the folder exists and holds index.html; the error names the folder.
  Status check() const;

  // One open file of the page; closes it unless release() handed it on.
  class File {
   public:
    File(int fd, int64_t size, std::string_view content_type)
        : fd_(fd), size_(size), content_type_(content_type) {}
    File(File&& other) noexcept;
    File& operator=(File&&) = delete;
    ~File();
    int release() { return std::exchange(fd_, -1); }  // for Exchange::reply_file
    int64_t size() const { return size_; }
    std::string_view content_type() const { return content_type_; }
    std::vector<std::pair<std::string, std::string>> headers;

   private:
    int fd_;
    int64_t size_;
    std::string_view content_type_;
  };
  // The page itself (index.html) with its security headers.
  Result<File> page() const;
  // One asset of the page by its file name; 404 M_NOT_FOUND for anything unsafe or absent.
  Result<File> asset(std::string_view file_name) const;

 private:
  Result<File> open_file(std::string_view file_name) const;

  std::string dir_;
  std::string content_security_policy_;
};

// The folder guest_page.dir defaults to: "web" beside the haven-care executable, where the
// build puts the web client.
std::string default_guest_page_dir();

}  // namespace haven::care
