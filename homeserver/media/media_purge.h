// Removing the media a purged room used (the admin API's room deletion): the records of this
// server's media tied to that room only (named by its events, or uploaded by its guests), and
// afterwards their files.
// purge_room_media_step inside a Store job (writer thread); remove_unused_blobs on a worker
// thread (file I/O), after that job committed.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/media/media_store.h"
#include "storage/store.h"

namespace haven::media {

struct MediaPurgeStep {
  bool done = false;                // no index row of the room is left
  std::vector<std::string> unused;  // sha256 of files no remaining record uses
};

// Forgets up to `budget` of the media tied to the room (kRoomMedia: the mxc URIs its events name
// in plain JSON, filled when events are stored, and its guests' uploads; encrypted events name
// none the server can see). A media id of `server_name`
// that no other room names loses its record and thumbnail records; the files those used are
// listed in `unused` when no other media or thumbnail record uses the same content.
// Media ids in `kept` (this server's media that a local user's profile names as its avatar)
// keep their records and files, though their tie to the room goes.
storage::Status purge_room_media_step(storage::WriteTxn& txn, std::string_view room_id,
                                      std::string_view server_name, size_t budget,
                                      const std::set<std::string>& kept, MediaPurgeStep* step);

// Deletes the files of `sha256s` from the store; missing ones are fine.
Status remove_unused_blobs(const MediaStore& store, const std::vector<std::string>& sha256s);

}  // namespace haven::media
