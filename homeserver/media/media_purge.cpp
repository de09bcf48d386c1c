#include "homeserver/media/media_purge.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::media {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

// sha256 of the record or thumbnail JSON `value`, or "" (index rows hold no JSON object).
std::string sha_of(std::string_view value) {
  if (value.empty() || value.front() != '{') return {};
  auto doc = json::parse_trusted(value);
  return doc.IsObject() ? json::get_string(doc, "sha256") : std::string();
}

bool named_by_another_room(storage::ReadTxn& txn, std::string_view server,
                           std::string_view media_id) {
  bool found = false;
  txn.scan(Table::kMediaRooms, KeyBuilder().str(server).str(media_id).build(), {},
           storage::Direction::kForward, [&](std::string_view, std::string_view) {
             found = true;
             return false;
           });
  return found;
}

// Deletes the media record and its thumbnail records; adds the files they used to `files`.
storage::Status forget_media(storage::WriteTxn& txn, const std::string& media_id,
                             std::set<std::string>* files) {
  if (auto record = get_media(txn, media_id); record && !record->sha256.empty()) {
    files->insert(record->sha256);
  }
  std::string prefix = KeyBuilder().str(media_id).build();
  txn.scan(Table::kMediaThumbnails, prefix, {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view value) {
             if (auto sha = sha_of(value); !sha.empty()) files->insert(sha);
             return true;
           });
  auto s = txn.del_prefix(Table::kMediaThumbnails, prefix);
  if (!s.ok()) return s;
  return txn.del(Table::kMedia, media_id);
}

// Removes from `files` those still used by a media or thumbnail record.
void drop_still_used(storage::ReadTxn& txn, std::set<std::string>* files) {
  for (Table table : {Table::kMedia, Table::kMediaThumbnails}) {
    txn.scan(table, {}, {}, storage::Direction::kForward,
             [&](std::string_view, std::string_view value) {
               if (auto sha = sha_of(value); !sha.empty()) files->erase(sha);
               return !files->empty();
             });
  }
}

}  // namespace

storage::Status purge_room_media_step(storage::WriteTxn& txn, std::string_view room_id,
                                      std::string_view server_name, size_t budget,
                                      const std::set<std::string>& kept, MediaPurgeStep* step) {
  const std::string prefix = KeyBuilder().str(room_id).build();
  std::vector<std::pair<std::string, std::string>> named;  // (server, media_id)
  txn.scan(Table::kRoomMedia, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             KeyReader r(key.substr(prefix.size()));
             auto server = r.str();
             if (server) named.emplace_back(std::string(*server), std::string(r.tail()));
             return named.size() < budget;
           });
  std::set<std::string> files;
  for (const auto& [server, media_id] : named) {
    auto s =
        txn.del(Table::kRoomMedia, KeyBuilder().str(room_id).str(server).tail(media_id).build());
    if (s.ok()) {
      s = txn.del(Table::kMediaRooms, KeyBuilder().str(server).str(media_id).tail(room_id).build());
    }
    if (s.ok() && server == server_name && !kept.contains(media_id) &&
        !named_by_another_room(txn, server, media_id)) {
      s = forget_media(txn, media_id, &files);
    }
    if (!s.ok()) return s;
  }
  if (!files.empty()) drop_still_used(txn, &files);
  step->unused.assign(files.begin(), files.end());
  step->done = named.size() < budget;
  return storage::Status::ok_status();
}

Status remove_unused_blobs(const MediaStore& store, const std::vector<std::string>& sha256s) {
  for (const std::string& sha : sha256s) {
    auto path = store.blob_path(sha);
    if (!path) continue;
    if (::unlink(path->c_str()) != 0 && errno != ENOENT) {
      return Error::unknown("cannot delete media file " + *path + ": " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace haven::media
