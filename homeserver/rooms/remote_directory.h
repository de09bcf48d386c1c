// Another server's published room directory, for a client's /publicRooms?server=. The client
// API calls this interface; federation/ implements it and main wires it in. Loop thread only;
// `done` runs on the loop thread.
#pragma once

#include <functional>
#include <string>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/room_directory.h"

namespace haven::rooms {

class RemoteDirectory {
 public:
  virtual ~RemoteDirectory() = default;

  // Asks `server` for one page of its directory: GET /publicRooms, or POST with the filter when
  // `with_filter`. `done` gets the answer (a public_rooms_response object) or the error:
  // 502 when the server cannot be reached or answers nonsense, M_FORBIDDEN for a server
  // federation may not talk to, the server's own 400/403/404 errors as they came.
  virtual void public_rooms(const std::string& server, const PublicRoomsQuery& query,
                            bool with_filter, std::function<void(Result<json::Document>)> done) = 0;
};

}  // namespace haven::rooms
